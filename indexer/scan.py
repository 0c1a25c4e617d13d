"""codelens scan: bring the index up to date, then match rules on the stored ASTs.

Per rule: the prefilter narrows the files to those holding the rule's literal tokens; each
(rule, file content) pair is answered from the results cache or matched and cached; each file
is decoded once however many rules need it. Findings are stored in the ``findings`` table.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from indexer.errors import UsageError
from indexer.store.reader import current_generation

# bump when matching changes what it finds: cached results of older engines are ignored
MATCH_ENGINE_VERSION = "3"  # 2: lines and bound text clipped; 3: long lines clipped too
SMALL_SCOPE = 16  # files: below this the prefilter is skipped (it would not pay)


class ScanOptions(NamedTuple):
    root: Path
    db_path: Path
    configs: list[Path]
    scope: list[str]  # relative paths (files or directories) findings are reported for; [""] all
    index: Any  # IndexOptions, or None to scan the index as it is
    use_prefilter: bool = True
    use_cache: bool = True


class Finding(NamedTuple):
    rule_id: str
    path: str
    start: tuple[int, int, int]  # line, col (1-based), offset
    end: tuple[int, int, int]
    message: str
    severity: str
    lines: str
    metavars: dict[str, dict[str, Any]]


class RuleInfo(NamedTuple):
    id: str
    message: str
    severity: str


class ScanReport(NamedTuple):
    results: list[str]  # per path, the JSON array of its semgrep-format results, path order
    total: int  # findings
    errors: list[dict[str, Any]]
    stats: dict[str, Any]
    rules: list[RuleInfo]  # the rules that ran

    @property
    def findings(self) -> list[Finding]:
        """The results as Finding objects (for text and SARIF; JSON uses ``results``)."""
        return [Finding(r["check_id"], r["path"], _triple(r["start"]), _triple(r["end"]),
                        r["extra"]["message"], r["extra"]["severity"], r["extra"]["lines"],
                        r["extra"]["metavars"])
                for text in self.results for r in json.loads(text)]


def _triple(point: dict[str, int]) -> tuple[int, int, int]:
    return point["line"], point["col"], point["offset"]


class _File(NamedTuple):
    file_id: int
    path: str
    sha256: str
    language: str
    ast_id: int


def scan(options: ScanOptions) -> ScanReport:
    """Scan, re-matching only the paths changed since the kept report of the same rules and
    scope (all of them the first time, or when a rule file changed, or without the cache).
    Raises UsageError when no rule could run, DatabaseError for an unusable index."""
    from indexer.match.rules import load_rules
    from indexer.store.connection import open_db, writer_lock

    clock = time.perf_counter()
    index_summary = None
    if options.index is not None:
        from indexer import engine

        index_summary = engine.index(options.index)
    rules, rule_errors = load_rules(options.configs)
    rules, compile_errors = _compilable(rules)
    errors = [_rule_error(e) for e in rule_errors + compile_errors]
    if not rules:
        raise UsageError("no rule could run: " + "; ".join(
            f"{e['path']}: {e['message']}" for e in errors[:5]) if errors else "no rules found",
            "check the --config paths and the rule syntax")
    infos = [RuleInfo(r.id, r.message, r.severity) for r in rules]
    with writer_lock(options.db_path):
        connection = open_db(options.db_path)
        try:
            kept = _KeptReports(connection, options, infos, errors)
            scope, incremental = kept.scope_to_match()
            run = _Scan(connection, options._replace(scope=scope), rules)
            if scope:
                findings = run.execute()
                _store_findings(connection, scope, findings, kept.generation)
                kept.replace(scope, findings)
            kept.save()
            results, count = kept.results()
        finally:
            connection.close()
    stats = {"prefilter": run.prefilter_stats, "cache": {"hits": run.hits, "misses": run.misses},
             "rules": len(rules), "files_matched": run.files_matched,
             "incremental": incremental, "paths_matched": len(scope) if incremental else None,
             "index": index_summary["files"] if index_summary else None,
             "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1)}
    return ScanReport(results, count, errors + run.errors, stats, infos)


class _KeptReports:
    """The stored report of one (rule files, scope, options): what a re-scan starts from."""

    def __init__(self, connection: Any, options: ScanOptions, rules: list[RuleInfo],
                 errors: list[dict[str, Any]]) -> None:
        self.connection = connection
        self.options = options
        self.rules = rules
        self.errors = errors
        self.key = _report_key(options)
        self.stamp = json.dumps(_rules_stamp(options.configs))
        self.generation = current_generation(connection)

    def scope_to_match(self) -> tuple[list[str], bool]:
        """(paths to match, whether that is an incremental update of a kept report)."""
        rows = self.connection.execute(
            "SELECT rules_stamp, generation FROM scan_reports WHERE key = ?", (self.key,))
        state = next(iter(rows), None)
        if not self.options.use_cache or state is None or state[0] != self.stamp:
            with self.connection:
                self.connection.execute("DELETE FROM scan_results WHERE key = ?", (self.key,))
            return list(self.options.scope), False
        changed = {p for (p,) in self.connection.execute(
            "SELECT DISTINCT path FROM change_log WHERE generation > ?", (state[1],))}
        from indexer.walk import within

        scope = {s.rstrip("/") for s in self.options.scope}
        return sorted(p for p in changed if within(p, scope)), True

    def replace(self, scope: list[str], findings: list[Finding]) -> None:
        from indexer import output

        by_path: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_path[finding.path].append(finding)
        with self.connection:
            for prefix in scope:
                clause, bindings = _scope_clause(prefix)
                self.connection.execute(f"DELETE FROM scan_results WHERE key = ? AND ({clause})",
                                        (self.key, *bindings))
            self.connection.executemany(
                "INSERT OR REPLACE INTO scan_results (key, path, results) VALUES (?, ?, ?)",
                [(self.key, path, output.dumps(output.results_of(found)))
                 for path, found in by_path.items()])

    def save(self) -> None:
        rule_errors = [e for e in self.errors if e["type"] == "RuleError"]
        with self.connection:
            self.connection.execute(
                "INSERT OR REPLACE INTO scan_reports (key, rules_stamp, generation, errors, rules)"
                " VALUES (?, ?, ?, ?, ?)", (self.key, self.stamp, self.generation,
                                            json.dumps(rule_errors), json.dumps(self.rules)))

    def results(self) -> tuple[list[str], int]:
        texts = [text for (text,) in self.connection.execute(
            "SELECT results FROM scan_results WHERE key = ? ORDER BY path", (self.key,))]
        count = sum(text.count('"check_id"') for text in texts)
        return texts, count


def _scope_clause(prefix: str) -> tuple[str, tuple[str, ...]]:
    """SQL for "path is ``prefix`` or inside it" ("" is everything), as a range of the path
    index: every path under ``a/`` sorts between ``a/`` and ``a0`` ('0' follows '/')."""
    if not prefix:
        return "1", ()
    return "path = ? OR (path >= ? AND path < ?)", (prefix, prefix + "/", prefix + "0")


def _report_key(options: ScanOptions) -> str:
    import hashlib

    shape = json.dumps([sorted(str(c.resolve()) for c in options.configs),
                        sorted(options.scope), options.use_prefilter, MATCH_ENGINE_VERSION])
    return hashlib.sha256(shape.encode()).hexdigest()[:32]


def _rules_stamp(configs: list[Path]) -> list[Any]:
    from indexer.match.rules import rule_files

    stamp: list[Any] = []
    for config in configs:
        for path in rule_files(config) if config.exists() else [config]:
            try:
                info = path.stat()
                stamp.append([str(path.resolve()), info.st_size, info.st_mtime_ns])
            except OSError:
                stamp.append([str(path), None, None])
    return stamp


def scan_buffers(root: Path, configs: list[Path], buffers: dict[str, str]) -> ScanReport:
    """Match rules against unsaved contents (relative path -> text) without touching the
    index: each buffer is parsed here and matched as that content."""
    from indexer import languages
    from indexer.match.rules import load_rules, target_languages
    from indexer.match.search import Target
    from indexer.match.snippet import parse_snippet

    clock = time.perf_counter()
    rules, rule_errors = load_rules(configs)
    rules, compile_errors = _compilable(rules)
    errors = [_rule_error(e) for e in rule_errors + compile_errors]
    findings = []
    for path, text in buffers.items():
        language = languages.language_for_path(path)
        wanted = [r for r in rules if language in target_languages(r)]
        if language is None or not wanted:
            continue
        tree = parse_snippet(text, language)
        if tree is None:
            continue
        target = Target(tree)
        for rule in wanted:
            matches, problem = match_rule(rule, target)
            if problem:
                errors.append(_match_error(rule, path, problem))
            findings += [_finding(rule, path, _located(target, m)) for m in matches]
    findings.sort(key=lambda f: (f.path, f.start[2], f.rule_id))
    stats = {"prefilter": {"enabled": False, "total_files": len(buffers), "passed": len(buffers),
                           "skipped": 0, "time_ms": 0.0}, "cache": {"hits": 0, "misses": 0},
             "rules": len(rules), "buffers": len(buffers),
             "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1)}
    return report_of(findings, errors, stats, [RuleInfo(r.id, r.message, r.severity)
                                               for r in rules])


def match_rule(rule: Any, target: Any) -> tuple[list[Any], str]:
    """A rule's matches in one file, and what went wrong if something did (an exception in
    one rule on one file is reported, never fatal to the scan)."""
    from indexer.match.evaluate import Evaluation, rule_matches
    from indexer.match.regexes import RegexTimeout

    run = Evaluation(target, rule.languages, rule.options)
    try:
        return rule_matches(rule.formula, run), "; ".join(run.errors)
    except RecursionError:
        return [], "the pattern is too deep to match here"
    except RegexTimeout as exc:
        return [], str(exc)
    except Exception as exc:  # noqa: BLE001 - one rule on one file must not end the scan
        return [], f"internal error while matching: {type(exc).__name__}: {exc}"


def _match_error(rule: Any, path: str, problem: str) -> dict[str, Any]:
    return {"type": "MatchError", "level": "warn", "path": path, "rule_id": rule.id,
            "message": f"rule {rule.id}: {problem}"}


def report_of(findings: list[Finding], errors: list[dict[str, Any]], stats: dict[str, Any],
              rules: list[RuleInfo]) -> ScanReport:
    """A report from findings held in memory."""
    from indexer import output

    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    results = [output.dumps(output.results_of(by_path[path])) for path in sorted(by_path)]
    return ScanReport(results, len(findings), errors, stats, rules)


def _compilable(rules: list[Any]) -> tuple[list[Any], list[Any]]:
    """Rules whose languages are indexed and whose patterns parse; the rest as errors."""
    from indexer import languages
    from indexer.match.formula import pattern_leaves
    from indexer.match.pattern import PatternError, compile_pattern
    from indexer.match.rules import RuleError

    known = set(languages.known_languages())
    good, bad = [], []
    for rule in rules:
        unknown = [lang for lang in rule.languages if lang not in known]
        if unknown:
            bad.append(RuleError(rule.source, rule.id, f"unsupported language {unknown[0]!r}"))
            continue
        try:
            for source, language in pattern_leaves(rule.formula):
                if language is not None and language not in known:
                    raise PatternError(f"unsupported language {language!r} in "
                                       "metavariable-pattern")
                compile_pattern(source, language or rule.languages[0])
        except (PatternError, languages.GrammarUnavailable) as exc:
            bad.append(RuleError(rule.source, rule.id, str(exc)))
            continue
        good.append(rule)
    return good, bad


def _rule_error(error: Any) -> dict[str, Any]:
    return {"type": "RuleError", "level": "error", "path": error.source,
            "rule_id": error.rule_id, "message": error.message}


class _Scan:
    def __init__(self, connection: Any, options: ScanOptions, rules: list[Any]) -> None:
        self.connection = connection
        self.options = options
        self.rules = rules
        self.errors: list[dict[str, Any]] = []
        self.hits = self.misses = self.files_matched = 0
        self.prefilter_stats: dict[str, Any] = {
            "enabled": options.use_prefilter, "total_files": 0, "passed": 0, "skipped": 0,
            "skipped_ratio_with_literals": None, "time_ms": 0.0}
        self.files: dict[int, _File] = {}

    def execute(self) -> list[Finding]:
        self.files = files = self._files_in_scope()
        plan = self._candidates(files)
        cached, missing = self._from_cache(plan)
        fresh = self._match(missing, files)
        self._save_cache(fresh)
        findings = []
        for (rule_index, file_id), matches in {**cached, **fresh}.items():
            rule, entry = self.rules[rule_index], files[file_id]
            findings += [_finding(rule, entry.path, m) for m in matches]
        findings.sort(key=lambda f: (f.path, f.start[2], f.rule_id))
        return findings

    def _files_in_scope(self) -> dict[int, _File]:
        scope = [s.rstrip("/") for s in self.options.scope]
        select = "SELECT id, path, sha256, language, ast_id FROM files WHERE ast_id IS NOT NULL"
        if "" in scope:
            return {row[0]: _File(*row) for row in self.connection.execute(select)}
        found: dict[int, _File] = {}
        for prefix in scope:  # a few paths: a range of the path index
            clause, bindings = _scope_clause(prefix)
            for row in self.connection.execute(f"{select} AND ({clause})", bindings):
                found[row[0]] = _File(*row)
        return found

    def _candidates(self, files: dict[int, _File]) -> dict[int, list[int]]:
        """rule index -> candidate file ids, through the prefilter unless it is off."""
        from indexer.match.rules import target_languages
        from indexer.prefilter.plan import candidate_file_ids, required_tokens, token_ids, tokens_of

        started = time.perf_counter()
        # for a handful of files matching costs less than asking the postings about them
        use = self.options.use_prefilter and len(files) > SMALL_SCOPE
        requirements = [required_tokens(r.formula, _pattern_words(r)) if use else None
                        for r in self.rules]
        ids = token_ids(self.connection, set().union(*(tokens_of(r) for r in requirements)))
        by_language: dict[str, list[int]] = defaultdict(list)
        for file_id, entry in files.items():
            by_language[entry.language].append(file_id)
        plan, total, passed, literal_total, literal_passed = {}, 0, 0, 0, 0
        for index, (rule, requirement) in enumerate(zip(self.rules, requirements, strict=True)):
            eligible = [f for lang in target_languages(rule) for f in by_language.get(lang, ())]
            allowed = candidate_file_ids(self.connection, requirement, ids)
            chosen = eligible if allowed is None else [f for f in eligible if f in allowed]
            plan[index] = chosen
            total += len(eligible)
            passed += len(chosen)
            if requirement is not None:
                literal_total += len(eligible)
                literal_passed += len(chosen)
        self.prefilter_stats = {
            "enabled": self.options.use_prefilter, "total_files": total, "passed": passed,
            "skipped": total - passed,
            "skipped_ratio_with_literals": round(1 - literal_passed / literal_total, 4)
            if literal_total else None,
            "time_ms": round((time.perf_counter() - started) * 1000, 2)}
        return plan

    def _from_cache(self, plan: dict[int, list[int]]) -> tuple[dict[tuple[int, int], list[Any]],
                                                                 dict[int, list[int]]]:
        """Cached matches per (rule, file); what is left to match, per file."""
        import apsw

        files = self.files
        cached: dict[tuple[int, int], list[Any]] = {}
        missing: dict[int, list[int]] = defaultdict(list)
        for index, file_ids in plan.items():
            if not file_ids:
                continue
            rule_hash = self.rules[index].hash
            found = {}
            if self.options.use_cache:
                shas = tuple({files[f].sha256 for f in file_ids})
                rows = self.connection.execute(
                    "SELECT sha256, matches FROM scan_cache WHERE rule_hash = ? AND engine = ?"
                    " AND sha256 IN carray(?)", (rule_hash, MATCH_ENGINE_VERSION,
                                                 apsw.carray(shas)))
                found = {sha: json.loads(blob) if blob else [] for sha, blob in rows}
            for file_id in file_ids:
                sha = files[file_id].sha256
                if sha in found:
                    cached[(index, file_id)] = found[sha]
                    self.hits += 1
                else:
                    missing[file_id].append(index)
                    self.misses += 1
        return cached, missing

    def _match(self, missing: dict[int, list[int]],
               files: dict[int, _File]) -> dict[tuple[int, int], list[Any]]:
        fresh: dict[tuple[int, int], list[Any]] = {}
        for file_id, rule_indexes in missing.items():
            entry = files[file_id]
            target = self._load(entry)
            if target is None:
                continue
            self.files_matched += 1
            for index in rule_indexes:
                fresh[(index, file_id)] = self._evaluate(index, entry, target)
        return fresh

    def _load(self, entry: _File) -> Any:
        """The decoded tree and source of a file, or None (with an error) if it moved on."""
        import hashlib

        from indexer import codec
        from indexer.match.search import Target
        from indexer.match.tree import Tree

        try:
            with open(os.path.join(self.options.root, entry.path), "rb") as handle:
                source = handle.read()
        except OSError as exc:
            self._file_error(entry, f"cannot read: {exc.strerror or exc}")
            return None
        if hashlib.sha256(source).hexdigest() != entry.sha256:
            self._file_error(entry, "changed since it was indexed; run the scan again")
            return None
        (blob,) = self.connection.execute("SELECT blob FROM asts WHERE id = ?",
                                          (entry.ast_id,)).fetchall()[0]
        try:
            return Target(Tree(codec.decode(blob), source))
        except codec.BlobFormatError as exc:
            self._file_error(entry, str(exc))
            return None

    def _evaluate(self, index: int, entry: _File, target: Any) -> list[Any]:
        rule = self.rules[index]
        matches, problem = match_rule(rule, target)
        if problem:
            self.errors.append(_match_error(rule, entry.path, problem))
        return [_located(target, m) for m in matches]

    def _file_error(self, entry: _File, message: str) -> None:
        self.errors.append({"type": "FileError", "level": "warn", "path": entry.path,
                            "message": message})

    def _save_cache(self, fresh: dict[tuple[int, int], list[Any]]) -> None:
        if not self.options.use_cache or not fresh:
            return
        files, now = self.files, int(time.time())
        rows = {(self.rules[i].hash, files[f].sha256): matches
                for (i, f), matches in fresh.items()}
        with self.connection:
            # results of another matcher version are never read again
            self.connection.execute("DELETE FROM scan_cache WHERE engine != ?",
                                    (MATCH_ENGINE_VERSION,))
            self.connection.executemany(
                "INSERT OR REPLACE INTO scan_cache (rule_hash, sha256, engine, matches, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(h, sha, MATCH_ENGINE_VERSION, json.dumps(m).encode() if m else b"", now)
                 for (h, sha), m in rows.items()])


MAX_LINES = 10  # source lines kept per finding, as semgrep's --max-lines-per-finding default
MAX_BOUND_CHARS = 1000  # of a metavariable's text (a callback can bind a whole function)
MAX_LINES_CHARS = 2000


def _located(target: Any, match: Any) -> list[Any]:
    """A match as cached: positions, the source lines, and what each metavariable bound."""
    source, position = target.source, target.position
    start, end = position(match.start), position(match.end)
    line_start = source.rfind(b"\n", 0, match.start) + 1
    line_end = source.find(b"\n", match.end)
    lines = source[line_start:line_end if line_end >= 0 else len(source)].decode(
        "utf-8", "replace").split("\n")
    shown = "\n".join(lines[:MAX_LINES]) + (
        f"\n[{len(lines) - MAX_LINES} more lines]" if len(lines) > MAX_LINES else "")
    shown = _clip(shown, MAX_LINES_CHARS)  # a minified bundle is one line of 500 KB
    metavars = {name: _bound(target, value) for name, value in match.env.items()}
    return [start, end, shown, metavars]


def _bound(target: Any, value: Any) -> list[Any]:
    """A binding as cached: its start and end positions and its text."""
    if isinstance(value, tuple):
        start, end = (value[0].start, value[-1].end) if value else (0, 0)
    else:
        start, end = value.start, value.end
    if not isinstance(value, tuple) and value.kind in ("Text", "Span"):
        text = str(value.value)
    else:
        text = target.source[start:end].decode("utf-8", "replace")
    return [target.position(start), target.position(end), _clip(text)]


def _clip(text: str, limit: int = MAX_BOUND_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "[...]"


def _pattern_words(rule: Any) -> Any:
    """The words a rule's pattern needs, compiled in the rule's first language."""
    from indexer.match.pattern import PatternError, compile_pattern

    def words(source: str) -> frozenset[str] | None:
        try:
            return compile_pattern(source, rule.languages[0]).tokens
        except PatternError:
            return None

    return words


def _finding(rule: Any, path: str, cached: list[Any]) -> Finding:
    from indexer.match.rules import interpolate

    start, end, lines, metavars = cached
    values = {name: value[2] for name, value in metavars.items()}
    return Finding(rule.id, path, tuple(start), tuple(end), interpolate(rule.message, values),
                   rule.severity, lines,
                   {name: {"start": _point(v[0]), "end": _point(v[1]), "abstract_content": v[2]}
                    for name, v in metavars.items()})


def _point(position: list[int]) -> dict[str, int]:
    return {"line": position[0], "col": position[1], "offset": position[2]}


def _store_findings(connection: Any, scope: list[str], findings: list[Finding],
                    generation: int) -> None:
    """Make the findings table hold ``findings`` for the scope, rewriting only the paths whose
    findings changed (a re-scan after one edit rewrites one path, not thousands of rows)."""
    columns = "rule_id, path, start_line, start_col, end_line, end_col, message, severity"
    stored: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for prefix in (s.rstrip("/") for s in scope):
        where, bindings = _scope_clause(prefix)
        for row in connection.execute(f"SELECT {columns} FROM findings WHERE {where}", bindings):
            stored[row[1]].append(tuple(row))
    wanted: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for f in findings:
        wanted[f.path].append((f.rule_id, f.path, f.start[0], f.start[1], f.end[0], f.end[1],
                               f.message, f.severity))
    changed = [p for p in stored.keys() | wanted.keys()
               if sorted(stored.get(p, ())) != sorted(wanted.get(p, ()))]
    if not changed:
        return
    with connection:
        connection.executemany("DELETE FROM findings WHERE path = ?", [(p,) for p in changed])
        connection.executemany(
            f"INSERT INTO findings ({columns}, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, generation) for p in changed for row in wanted.get(p, ())])
