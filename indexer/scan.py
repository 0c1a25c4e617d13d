"""codelens scan: match rules on the stored ASTs of an index (which the caller brought up to
date: the CLI and the daemon run the index stage first).

Per rule: the prefilter narrows the files to those holding the words every match needs; each
(rule, file content) pair is answered from the results cache or matched and cached; each file
is decoded once however many rules need it. A kept report per (rule files, scope, options)
makes a re-scan match only the paths changed since; findings go to the ``findings`` table.
The SQL is store/scans.py's.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from indexer.errors import UsageError
from indexer.matching import TIMED_OUT, names

# bump when matching changes what it finds: cached results of older engines are ignored
# 4: the semantic matcher (normalized trees, semgrep's equivalences and rule operators)
# 5: each match carries what a nosemgrep comment at it suppresses
# 6: each match carries the text of its rule's fix (extra.fix)
MATCH_ENGINE_VERSION = "6"
SMALL_SCOPE = 16  # files: below this the prefilter is skipped (it would not pay)
BATCH_FILES = 256  # matched, cached and reported together
DEFAULT_TIMEOUT = 5.0  # semgrep's --timeout
DEFAULT_TIMEOUT_THRESHOLD = 3  # semgrep's --timeout-threshold


class ScanOptions(NamedTuple):
    root: Path
    db_path: Path
    configs: list[Path]
    scope: list[str]  # relative paths (files or directories) findings are reported for; [""] all
    use_prefilter: bool = True
    use_cache: bool = True
    jobs: int = 1  # processes that match (see indexer.matching)
    timeout: float = DEFAULT_TIMEOUT  # seconds one rule may take on one file (0: no limit)
    timeout_threshold: int = DEFAULT_TIMEOUT_THRESHOLD  # timeouts that drop a rule (0: never)
    nosem: bool = True  # honour `nosemgrep` comments (--disable-nosem: False)
    exclude_rules: tuple[str, ...] = ()  # rule ids not to run (--exclude-rule)
    severities: tuple[str, ...] = ()  # run only rules of these severities (--severity)
    max_memory: int = 0  # MiB a matching process may hold while one rule runs on one file
    include: tuple[str, ...] = ()  # globs: only paths matching one are scanned (--include)
    exclude: tuple[str, ...] = ()  # globs: paths matching one are not scanned (--exclude)


class Finding(NamedTuple):
    rule_id: str
    path: str
    start: tuple[int, int, int]  # line, col (1-based), offset
    end: tuple[int, int, int]
    message: str
    severity: str
    lines: str
    metavars: dict[str, dict[str, Any]]
    fix: str | None = None  # the text that replaces the match (a rule's fix or fix-regex)
    fixed_lines: list[str] | None = None  # the lines the fix leaves (--dryrun)


class RuleInfo(NamedTuple):
    id: str
    message: str
    severity: str


class ScanReport(NamedTuple):
    results: list[bytes]  # per path, the JSON array of its semgrep-format results, path order
    total: int  # findings
    errors: list[dict[str, Any]]
    stats: dict[str, Any]
    rules: list[RuleInfo]  # the rules that ran

    @property
    def findings(self) -> list[Finding]:
        """The results as Finding objects (for text and SARIF; JSON uses ``results``)."""
        import orjson

        return [Finding(r["check_id"], r["path"], _triple(r["start"]), _triple(r["end"]),
                        r["extra"]["message"], r["extra"]["severity"], r["extra"]["lines"],
                        r["extra"]["metavars"], r["extra"].get("fix"),
                        r["extra"].get("fixed_lines"))
                for chunk in self.results for r in orjson.loads(chunk)]


def _triple(point: dict[str, int]) -> tuple[int, int, int]:
    return point["line"], point["col"], point["offset"]


def scan(options: ScanOptions) -> ScanReport:
    """Scan the index as it is, re-matching only the paths changed since the kept report of
    the same rules and scope (all of them the first time, when a rule file changed, or
    without the cache). Raises UsageError when no rule could run, DatabaseError for an
    unusable index."""
    from indexer import output
    from indexer.store.connection import open_db
    from indexer.store.reader import current_generation
    from indexer.store.scans import KeptReport, clear_findings, store_findings
    from indexer.walk import within

    clock = time.perf_counter()
    rules, errors = compile_rules(options)
    infos = [RuleInfo(r.id, r.message, r.severity) for r in rules]
    connection = open_db(options.db_path)
    try:
        kept = KeptReport(connection, _report_key(options),
                          json.dumps(_rules_stamp(options.configs)))
        generation = current_generation(connection)
        scope, incremental = kept.paths_to_match(options.scope, options.use_cache)
        run = _Scan(connection, options._replace(scope=scope), rules)
        # what went wrong in files not matched again stays reported
        matched_again = set(scope)
        earlier = [e for e in kept.errors() if not within(e.get("path", ""), matched_again)] \
            if incremental else []
        if scope:
            kept.begin(scope)
            matched: set[str] = set()
            for paths, findings in run.batches():  # a few hundred files' findings at a time
                matched.update(paths)
                store_findings(connection, paths, [_finding_row(f) for f in findings],
                               generation)
                kept.add({path: output.dumps(output.results_of(found))
                          for path, found in _by_path(findings).items()})
            clear_findings(connection, scope, matched)
        kept.save(generation, earlier + run.errors, infos)
        results, count = kept.results()
    finally:
        connection.close()
    stats = run.stats(clock, incremental=incremental,
                      paths_matched=len(scope) if incremental else None)
    return ScanReport(results, count, errors + earlier + run.errors, stats, infos)


def scan_files(options: ScanOptions) -> tuple[ScanReport, list[Any]]:
    """The findings of the files under ``options.scope`` only, from the results cache or
    matched (and cached), for a one-off scan (``--baseline-commit``): no kept report is
    read or written and the findings table is left alone. Returns the report and the rules
    that ran; raises as ``scan`` does."""
    from indexer.store.connection import open_db

    clock = time.perf_counter()
    rules, errors = compile_rules(options)
    connection = open_db(options.db_path)
    try:
        run = _Scan(connection, options, rules)
        findings = [f for _paths, found in run.batches() for f in found]
    finally:
        connection.close()
    stats = run.stats(clock)
    infos = [RuleInfo(r.id, r.message, r.severity) for r in rules]
    return report_of(findings, errors + run.errors, stats, infos), rules


def compile_rules(options: ScanOptions) -> tuple[list[Any], list[dict[str, Any]]]:
    """The runnable rules of a scan and the errors of the others (see ``_rules``), their
    patterns compiled once and kept beside the index for the next run."""
    return _rules(options.configs, options.exclude_rules, options.severities,
                  options.db_path.parent)


def _rules(configs: list[Path], exclude: tuple[str, ...] = (),
           severities: tuple[str, ...] = (),
           store: Path | None = None) -> tuple[list[Any], list[dict[str, Any]]]:
    """The runnable rules (less those ``exclude`` names, by id or by the last part of a
    dotted one, and those outside ``severities`` when given) and the errors of the others;
    UsageError when none can run. With ``store``, compiled patterns are read from and kept
    in that folder."""
    from indexer.match import pattern_store
    from indexer.match.ruleset import load_ruleset

    known = pattern_store.load(store) if store is not None else 0
    rules, problems = load_ruleset(configs)
    if store is not None:
        pattern_store.save(store, known)
    errors = [_rule_error(e) for e in problems]
    if not rules:
        raise UsageError("no rule could run: " + "; ".join(
            f"{e['path']}: {e['message']}" for e in errors[:5]) if errors else "no rules found",
            "check the --config paths and the rule syntax")
    wanted = {s.upper() for s in severities}  # (choosing none of them is no error)
    return [r for r in rules if not any(names(x, r.id) for x in exclude)
            and (not wanted or r.severity in wanted)], errors


def _by_path(findings: list[Finding]) -> dict[str, list[Finding]]:
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    return by_path


def _finding_row(f: Finding) -> tuple[Any, ...]:
    return (f.rule_id, f.path, f.start[0], f.start[1], f.end[0], f.end[1], f.message,
            f.severity)


def _report_key(options: ScanOptions) -> str:
    import hashlib

    shape = json.dumps([sorted(str(c.resolve()) for c in options.configs),
                        sorted(options.scope), options.use_prefilter, options.nosem,
                        sorted(options.exclude_rules), sorted(options.severities),
                        MATCH_ENGINE_VERSION] + (  # (the key of a scan without globs is kept)
                            [sorted(options.include), sorted(options.exclude)]
                            if options.include or options.exclude else []))
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


def scan_buffers(configs: list[Path], buffers: dict[str, str], nosem: bool = True) -> ScanReport:
    """Match rules against unsaved contents (relative path -> text) without touching the
    index: each buffer is parsed here and matched as that content."""
    from indexer import languages
    from indexer.globs import PathFilter
    from indexer.match.rules import target_languages
    from indexer.match.search import Target
    from indexer.match.snippet import parse_snippet
    from indexer.matching import located, match_rule, suppressed

    clock = time.perf_counter()
    rules, errors = _rules(configs)
    findings = []
    for path, text in buffers.items():
        language = languages.language_for_path(path)
        wanted = [r for r in rules if language in target_languages(r)
                  and PathFilter(*r.paths).allows(path)]
        tree = parse_snippet(text, language) if language is not None and wanted else None
        if tree is None:
            continue
        target = Target(tree)
        for rule in wanted:
            matches, problem = match_rule(rule, target)
            if problem:
                errors.append(_match_error(rule, path, problem))
            found = [located(target, m, rule) for m in matches]
            findings += [_finding(rule, path, f) for f in found
                         if not (nosem and suppressed(rule.id, f[4]))]
    findings.sort(key=lambda f: (f.path, f.start[2], f.rule_id))
    stats = {"prefilter": {"enabled": False, "total_files": len(buffers), "passed": len(buffers),
                           "skipped": 0, "time_ms": 0.0}, "cache": {"hits": 0, "misses": 0},
             "rules": len(rules), "buffers": len(buffers),
             "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1)}
    return report_of(findings, errors, stats, [RuleInfo(r.id, r.message, r.severity)
                                               for r in rules])


def _match_error(rule: Any, path: str, problem: str) -> dict[str, Any]:
    return {"type": "MatchError", "level": "warn", "path": path, "rule_id": rule.id,
            "message": f"rule {rule.id}: {problem}"}


def report_of(findings: list[Finding], errors: list[dict[str, Any]], stats: dict[str, Any],
              rules: list[RuleInfo]) -> ScanReport:
    """A report from findings held in memory."""
    from indexer import output

    by_path = _by_path(findings)
    results = [output.dumps(output.results_of(by_path[path])).encode()
               for path in sorted(by_path)]
    return ScanReport(results, len(findings), errors, stats, rules)


def _rule_error(error: Any) -> dict[str, Any]:
    return {"type": "RuleError", "level": "error", "path": error.source,
            "rule_id": error.rule_id, "message": error.message}


class _Scan:
    def __init__(self, connection: Any, options: ScanOptions, rules: list[Any]) -> None:
        self.connection = connection
        self.options = options
        self.rules = rules
        self.errors: list[dict[str, Any]] = []
        self.hits = self.misses = self.files_matched = self.processes = self.lost = 0
        self.nosem_suppressed = 0
        self.failed: set[tuple[int, int]] = set()  # (rule index, file id) whose matching failed
        self.timeouts: dict[int, int] = defaultdict(int)  # rule index -> files it timed out on
        self.dropped: set[int] = set()  # rules past the timeout threshold
        self.prefilter_stats: dict[str, Any] = {
            "enabled": options.use_prefilter, "total_files": 0, "passed": 0, "skipped": 0,
            "skipped_ratio_with_literals": None, "time_ms": 0.0}
        self.files: dict[int, Any] = {}

    def batches(self) -> Iterator[tuple[list[str], list[Finding]]]:
        """(paths, their findings in path and position order) for a batch of files at a
        time, in path order: what is held in memory is one batch's (and the next one's,
        which workers match meanwhile), however many findings the whole scan has; each
        batch's new matches are cached as it is reported."""
        from indexer.matching import Limits, Matching
        from indexer.store.scans import files_in_scope

        self.files = files = self._chosen(files_in_scope(self.connection, self.options.scope))
        rules_of: dict[int, list[int]] = defaultdict(list)
        for index, file_ids in self._candidates(files).items():
            for file_id in file_ids:
                rules_of[file_id].append(index)
        order = sorted(files, key=lambda f: files[f].path)
        matching = Matching(self.options.root, self.options.db_path, self.connection,
                            self.rules, self.options.jobs,
                            Limits(self.options.timeout, self.options.timeout_threshold,
                                   memory_mb=self.options.max_memory))
        try:
            pending = None
            for at in range(0, len(order), BATCH_FILES):
                batch = order[at:at + BATCH_FILES]
                cached, missing = self._from_cache(  # less the rules dropped by now
                    {f: [i for i in rules_of[f] if i not in self.dropped]
                     for f in batch if f in rules_of})
                started = matching.start(self._work(missing))
                if pending is not None:
                    yield self._report(*pending, matching)
                pending = (batch, cached, started)
            if pending is not None:
                yield self._report(*pending, matching)
        finally:
            matching.close()
            self.processes, self.lost = matching.processes, matching.lost

    def stats(self, clock: float, **more: Any) -> dict[str, Any]:
        """The figures of a run that started at ``clock`` (perf_counter), with ``more``."""
        return {"prefilter": self.prefilter_stats,
                "cache": {"hits": self.hits, "misses": self.misses},
                "rules": len(self.rules), "files_matched": self.files_matched,
                "match_processes": self.processes, "match_processes_lost": self.lost,
                "nosem_suppressed": self.nosem_suppressed, **more,
                "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1)}

    def _chosen(self, files: dict[int, Any]) -> dict[int, Any]:
        """The files of ``files`` that --include / --exclude let through."""
        from indexer.globs import PathFilter

        chosen = PathFilter(self.options.include, self.options.exclude)
        return {f: e for f, e in files.items() if chosen.allows(e.path)} if chosen else files

    def _suppressed(self, rule: Any, match: list[Any]) -> bool:
        from indexer.matching import suppressed

        if self.options.nosem and suppressed(rule.id, match[4]):
            self.nosem_suppressed += 1
            return True
        return False

    def _timed_out(self, index: int) -> None:
        """One more file the rule timed out on; at the threshold it is dropped for the rest
        of the run (semgrep's --timeout-threshold)."""
        self.timeouts[index] += 1
        threshold = self.options.timeout_threshold
        if threshold and self.timeouts[index] == threshold:
            self.dropped.add(index)
            rule = self.rules[index]
            self.errors.append({
                "type": "Timeout", "level": "warn", "path": rule.source, "rule_id": rule.id,
                "message": f"rule {rule.id}: timed out on {threshold} files: not matched on "
                           "the files after them (--timeout-threshold)"})

    def _work(self, missing: dict[int, list[int]]) -> list[tuple[Any, list[int]]]:
        from indexer.matching import Entry

        files = self.files
        return [(Entry(f, files[f].path, files[f].sha256, files[f].ast_id), indexes)
                for f, indexes in sorted(missing.items(), key=lambda kv: files[kv[0]].path)]

    def _report(self, batch: list[int], cached: dict[tuple[int, int], list[Any]],
                started: Any, matching: Any) -> tuple[list[str], list[Finding]]:
        files = self.files
        fresh: dict[tuple[int, int], list[Any]] = {}
        for outcome in matching.outcomes(started):
            entry = files[outcome.file_id]
            for index, problem in outcome.problems:
                if index is None:
                    self.errors.append({"type": "FileError", "level": "warn",
                                        "path": entry.path, "message": problem})
                else:
                    self.errors.append(_match_error(self.rules[index], entry.path, problem))
                    self.failed.add((index, entry.file_id))
                    if problem.startswith(TIMED_OUT):
                        self._timed_out(index)
            if all(index is not None for index, _ in outcome.problems):  # it was read
                self.files_matched += 1
            for index, matches in outcome.matches.items():
                fresh[(index, entry.file_id)] = matches
        self._save_cache(fresh)
        findings = []
        for (rule_index, file_id), matches in {**cached, **fresh}.items():
            rule, entry = self.rules[rule_index], files[file_id]
            findings += [_finding(rule, entry.path, m) for m in matches
                         if not self._suppressed(rule, m)]
        findings.sort(key=lambda f: (f.path, f.start[2], f.rule_id))
        return [files[f].path for f in batch], findings

    def _candidates(self, files: dict[int, Any]) -> dict[int, list[int]]:
        """rule index -> candidate file ids, through the prefilter unless it is off."""
        from indexer.globs import PathFilter
        from indexer.match.rules import target_languages
        from indexer.match.ruleset import pattern_words
        from indexer.prefilter.plan import candidate_file_ids, required_tokens, token_ids, tokens_of

        started = time.perf_counter()
        # for a handful of files matching costs less than asking the postings about them
        use = self.options.use_prefilter and len(files) > SMALL_SCOPE
        requirements = [required_tokens(r.formula, partial(pattern_words, r)) if use else None
                        for r in self.rules]
        ids = token_ids(self.connection, set().union(*(tokens_of(r) for r in requirements)))
        by_language: dict[str, list[int]] = defaultdict(list)
        for file_id, entry in files.items():
            by_language[entry.language].append(file_id)
        plan, total, passed, literal_total, literal_passed = {}, 0, 0, 0, 0
        for index, (rule, requirement) in enumerate(zip(self.rules, requirements, strict=True)):
            eligible = [f for lang in target_languages(rule) for f in by_language.get(lang, ())]
            if rule.paths != ((), ()):  # the rule's own `paths:`
                allowed_paths = PathFilter(*rule.paths)
                eligible = [f for f in eligible if allowed_paths.allows(files[f].path)]
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

    def _from_cache(self, plan: dict[int, list[int]]) -> tuple[
            dict[tuple[int, int], list[Any]], dict[int, list[int]]]:
        """Of ``plan`` (file id -> rule indexes): cached matches per (rule, file), and what
        is left to match, per file."""
        from indexer.store.scans import cached_matches

        files = self.files
        cached: dict[tuple[int, int], list[Any]] = {}
        missing: dict[int, list[int]] = defaultdict(list)
        by_rule: dict[int, list[int]] = defaultdict(list)
        for file_id, indexes in plan.items():
            for index in indexes:
                by_rule[index].append(file_id)
        for index, file_ids in by_rule.items():
            found: dict[str, list[Any]] = {}
            if self.options.use_cache:
                shas = tuple({files[f].sha256 for f in file_ids})
                found = cached_matches(self.connection, self.rules[index].hash,
                                       MATCH_ENGINE_VERSION, shas)
            for file_id in file_ids:
                sha = files[file_id].sha256
                if sha in found:
                    cached[(index, file_id)] = found[sha]
                    self.hits += 1
                else:
                    missing[file_id].append(index)
                    self.misses += 1
        return cached, missing

    def _save_cache(self, fresh: dict[tuple[int, int], list[Any]]) -> None:
        from indexer.store.scans import save_matches

        if not self.options.use_cache or not fresh:
            return
        files = self.files
        save_matches(self.connection, MATCH_ENGINE_VERSION,  # a pair that failed is tried again
                     {(self.rules[i].hash, files[f].sha256): matches
                      for (i, f), matches in fresh.items() if (i, f) not in self.failed})


def _finding(rule: Any, path: str, cached: list[Any]) -> Finding:
    from indexer.match.rules import interpolate

    start, end, lines, metavars, _nosem, fix = cached
    values = {name: value[2] for name, value in metavars.items()}
    return Finding(rule.id, path, tuple(start), tuple(end), interpolate(rule.message, values),
                   rule.severity, lines,
                   {name: {"start": _point(v[0]), "end": _point(v[1]), "abstract_content": v[2]}
                    for name, v in metavars.items()}, fix)


def _point(position: list[int]) -> dict[str, int]:
    return {"line": position[0], "col": position[1], "offset": position[2]}
