"""codelens scan --baseline-commit REF: only the findings that are new since REF.

As semgrep decides it, a working-tree finding is old when the same rule matched the same code
at REF in the same file (its path at REF, through renames): "the same code" is the finding's
whole lines, dedented, without `nosemgrep` comments and without surrounding whitespace, so a
finding that only moved is still old; equal keys are counted, so code matched twice where
REF had it once reports once. Findings of files that did not change since REF are all old, so
only the changed files are matched: the working tree from the index (``scan.scan_files``), and
REF's contents of those of them with findings, read with ``git cat-file`` and parsed here.
"""

from __future__ import annotations

import os
import re
import subprocess
import textwrap
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

from indexer.errors import GitError
from indexer.scan import Finding, ScanOptions, ScanReport, compile_rules, report_of, scan_files

NO_BLOB = "0" * 40
# a `nosemgrep` comment, left out of the code a finding is compared by
NOSEM_COMMENT = re.compile(r"[ \t]*(?:(?:#|//|/\*|--)[ \t]*|(?<!\S))nosem(?:grep)?\b[^\n]*",
                           re.IGNORECASE)


class Changes(NamedTuple):
    """What differs between REF and the working tree, below the index root."""

    commit: str  # REF as a full commit id
    paths: list[str]  # root-relative paths that differ now (added, modified, renamed, untracked)
    before: dict[str, tuple[str, str]]  # of them, those REF had: (path at REF from the
    # repository's top, blob id)
    top: Path  # the repository's top folder
    prefix: str  # the root below it, as a path prefix ("" when the root is the top)


def scan_since(ref: str, options: ScanOptions) -> ScanReport:
    """The findings in the working tree under ``options.scope`` that are not in ``ref``,
    matching only the files changed since. Raises GitError (no git, no repository, unknown
    commit) and what ``scan`` raises."""
    from concurrent.futures import ThreadPoolExecutor

    from indexer.walk import within

    clock = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:  # git works while the rules compile (kept compiled)
        asked = pool.submit(changes_since, options.root, ref)
        compile_rules(options)
        changes = asked.result()
    prefixes = {s.rstrip("/") for s in options.scope}
    changed = [p for p in changes.paths if within(p, prefixes)]
    # nosemgrep comments are applied here, after the comparison: a suppressed finding still
    # takes its place among equal ones, as in semgrep
    report, rules = scan_files(options._replace(scope=changed, nosem=False))
    head = report.findings
    sources = {path: _read(options.root / path) for path in {f.path for f in head}}
    old = _old_counts(changes, head, rules, options.timeout)
    kept, suppressed = [], 0
    seen: Counter[tuple[str, str, str]] = Counter()
    for finding in head:
        key = _key(changes, finding, sources[finding.path])
        seen[key] += 1
        if seen[key] <= old[key]:
            continue
        if options.nosem and _suppressed(finding, sources[finding.path]):
            suppressed += 1
            continue
        kept.append(finding)
    stats = {**report.stats, "nosem_suppressed": suppressed, "baseline": {
        "ref": ref, "commit": changes.commit, "changed_paths": len(changed),
        "files_at_ref_matched": len({p for p in sources if p in changes.before}),
        "findings_removed": len(head) - len(kept) - suppressed},
        "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1)}
    return report_of(kept, report.errors, stats, report.rules)


def changes_since(root: Path, ref: str) -> Changes:
    """The paths below ``root`` that differ between ``ref`` and the working tree: committed
    since, staged, unstaged and untracked alike (deleted ones are left out: they have no
    findings). Raises GitError."""
    if ref.startswith("-"):  # (no option of rev-parse's, below)
        _explain(root, ref)
    found = _git(["rev-parse", "--show-toplevel", "--git-path", "index", ref + "^{commit}"],
                 root)
    answer = found.stdout.decode(errors="surrogateescape").splitlines()
    if found.returncode != 0 or len(answer) != 3:
        _explain(root, ref)
    top, index, commit = answer
    prefix = os.path.relpath(root, top).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix + "/"
    paths, before = [], {}
    for path, at_ref in _diff_entries(_diff(Path(top), root / index, root, commit)):
        if path.startswith(prefix):
            paths.append(path[len(prefix):])
            if at_ref is not None:
                before[path[len(prefix):]] = at_ref
    return Changes(commit, sorted(set(paths)), before, Path(top), prefix)


def _explain(root: Path, ref: str) -> NoReturn:
    """Raise the GitError saying why ``git rev-parse`` did not answer."""
    if _git(["rev-parse", "--show-toplevel"], root).returncode != 0:
        raise GitError(f"{root} is not in a git repository",
                       "--baseline-commit compares with a commit of the root's repository")
    if _git(["rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"],
            root).returncode != 0:
        raise GitError(f"unknown commit: {ref}",
                       "pass a commit, branch or tag of the repository (see `git log`)")
    raise GitError(f"git rev-parse could not tell the repository of {root}")


def _diff(top: Path, index: Path, root: Path, commit: str) -> bytes:
    """``git diff --raw -z`` from ``commit`` to the working tree, with the untracked files
    below ``root`` as added ones. When some tracked file is gone and some untracked one is
    there (a move without ``git mv``?), the untracked files go into a copy of the index as
    intent-to-add entries instead, so that git finds such renames too (the repository's
    own index is left alone). Raises GitError."""
    diff = ["diff", "--raw", "-z", "-M", "--no-abbrev", "--no-relative", "--no-ext-diff",
            "--ignore-submodules", commit, "--"]
    with _started(diff, top) as tracked, _started(
            ["ls-files", "--others", "--exclude-standard", "-z", "--full-name"], root) as others:
        changed, untracked = _answer(tracked), _answer(others)
    if not untracked:
        return changed
    if not re.search(rb"\0?:[0-7]+ [0-7]+ [0-9a-f]+ [0-9a-f]+ D\0", b"\0" + changed):
        zeros = b":000000 100644 " + NO_BLOB.encode() + b" " + NO_BLOB.encode() + b" A\0"
        return changed + b"".join(zeros + p + b"\0" for p in untracked.split(b"\0") if p)
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="codelens-baseline-") as folder:
        copy = Path(folder) / "index"
        if index.exists():
            shutil.copyfile(index, copy)
        env = {"GIT_INDEX_FILE": str(copy)}
        _checked(_git(["add", "--intent-to-add", "--", "."], root, env))
        return _checked(_git(diff, top, env))


def _started(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    """``git ARGS`` started (to run beside another)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.Popen(["git", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}",
                       "--baseline-commit needs git on the PATH") from exc


def _answer(process: subprocess.Popen[bytes]) -> bytes:
    out, err = process.communicate()
    return _checked(subprocess.CompletedProcess(process.args, process.returncode, out, err))


def _checked(done: subprocess.CompletedProcess[bytes]) -> bytes:
    if done.returncode != 0:
        raise GitError(f"git {list(done.args)[1]} failed: "
                       f"{done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _diff_entries(raw: bytes) -> list[tuple[str, tuple[str, str] | None]]:
    """(path now, (path at REF, blob id) or None) of each entry of ``git diff --raw -z``
    that is still there; all paths from the repository's top."""
    fields = [os.fsdecode(f) for f in raw.split(b"\0")]
    entries: list[tuple[str, tuple[str, str] | None]] = []
    at = 0
    while at < len(fields) and fields[at].startswith(":"):
        meta = fields[at].split()
        old_blob, status = meta[2], meta[4]
        if status[0] in "RC":  # renamed or copied: the old path, then the new one
            old, new = fields[at + 1], fields[at + 2]
            at += 3
        else:
            old = new = fields[at + 1]
            at += 2
        if status[0] == "D":
            continue
        existed = status[0] in "MTUR" and old_blob != NO_BLOB
        entries.append((new, (old, old_blob) if existed else None))
    return entries


def _git(args: list[str], cwd: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", **(env or {})}
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env,
                              check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}",
                       "--baseline-commit needs git on the PATH") from exc


def _blobs(root: Path, ids: list[str]) -> dict[str, bytes]:
    """The contents of git blobs, by id, read in one ``git cat-file --batch``."""
    if not ids:
        return {}
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=root, capture_output=True,
                              input="".join(f"{i}\n" for i in ids).encode(), check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from exc
    out, at, found = _checked(done), 0, {}
    for blob in ids:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        if len(header) < 3:  # "<id> missing"
            at = header_end + 1
            continue
        size = int(header[2])
        found[blob] = out[header_end + 1:header_end + 1 + size]
        at = header_end + 1 + size + 1
    return found


def _old_counts(changes: Changes, head: list[Finding], rules: list[Any],
                timeout: float) -> Counter[tuple[str, str, str]]:
    """How many times each (rule id, path at REF, code) matched at REF, for the rules that
    found something in a changed file REF had (no other finding can be old)."""
    rule_ids: dict[str, set[str]] = defaultdict(set)
    for finding in head:
        if finding.path in changes.before:
            rule_ids[finding.path].add(finding.rule_id)
    at_ref = {path: changes.before[path] for path in rule_ids}
    contents = _blobs(changes.top, sorted({blob for _, blob in at_ref.values()}))
    counts: Counter[tuple[str, str, str]] = Counter()
    for path, (old_path, blob) in at_ref.items():
        if blob in contents:
            wanted = [r for r in rules if r.id in rule_ids[path]]
            for rule_id, start, end in _matches(old_path, contents[blob], wanted, timeout):
                counts[(rule_id, old_path, code_of(contents[blob], start, end))] += 1
    return counts


def _matches(path: str, source: bytes, rules: list[Any],
             timeout: float) -> list[tuple[str, int, int]]:
    """(rule id, start, end offset) of the rules' matches in ``source`` (a file at REF)."""
    from indexer import languages
    from indexer.match.rules import target_languages
    from indexer.match.search import Target
    from indexer.match.snippet import parse_snippet
    from indexer.matching import match_rule

    language = languages.language_for_path(path)
    wanted = [r for r in rules if language in target_languages(r)]
    tree = parse_snippet(source, language) if language is not None and wanted else None
    if tree is None:
        return []
    target = Target(tree)
    found = []
    for rule in wanted:
        matches, _problem = match_rule(rule, target, timeout)  # (a failure: nothing is old)
        found += [(rule.id, m.start, m.end) for m in matches]
    return found


def code_of(source: bytes, start: int, end: int) -> str:
    """The code a finding is compared by: its whole lines, dedented, less `nosemgrep`
    comments and surrounding whitespace."""
    line_start = source.rfind(b"\n", 0, start) + 1
    line_end = source.find(b"\n", end)
    lines = source[line_start:line_end if line_end >= 0 else len(source)]
    text = textwrap.dedent(lines.decode("utf-8", "replace"))
    return NOSEM_COMMENT.sub("", text).strip()


def _key(changes: Changes, finding: Finding, source: bytes | None) -> tuple[str, str, str]:
    """A working-tree finding's (rule id, path at REF, code)."""
    path = finding.path
    old_path = changes.before[path][0] if path in changes.before else changes.prefix + path
    code = code_of(source, finding.start[2], finding.end[2]) if source is not None \
        else NOSEM_COMMENT.sub("", textwrap.dedent(finding.lines)).strip()
    return finding.rule_id, old_path, code


def _suppressed(finding: Finding, source: bytes | None) -> bool:
    from indexer.matching import nosem, suppressed

    return source is not None and suppressed(finding.rule_id, nosem(source, finding.start[2]))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
