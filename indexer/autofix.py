"""codelens scan --autofix and --dryrun: a scan report's fixes applied to the files, or shown.

Each finding whose rule has a fix carries its replacement text (``extra.fix``, rendered at
match time: indexer/match/fixes.py). Per file, as semgrep does: the fixes are taken in
order of position; one that overlaps a fix taken before it is skipped (an identical one is
the same fix), and the report says so; an empty fix that starts a line takes the line's
end with it. A file is rewritten only when it is still the content the scan matched (its
hash is the index's, and the index has not changed it since the scan began), through a
temporary file in the same folder with the file's mode, renamed over it; then those paths
are indexed again before the command returns, so that what reads the index next sees the
new contents.

``--dryrun`` writes nothing: each fixed finding gets ``extra.fixed_lines``, the lines its
fix alone would leave (none for a fix that overlaps one shown before it in the report, or
that deletes whole lines), as semgrep reports them.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from indexer.scan import ScanReport
from indexer.settings import IndexOptions

CHANGED = "changed since it was indexed: its fixes are not applied; scan again"


class Edit(NamedTuple):
    """One fix: bytes [start, end) of a file become ``text``."""

    start: int
    end: int
    text: bytes
    rule_id: str
    line: int


class NotApplied(Exception):
    """A file's fixes cannot be applied: it is not the content the scan matched (any
    more), or it cannot be read or written."""


def edits_of(results: list[dict[str, Any]]) -> list[Edit]:
    """The fixes of one path's results, in report order."""
    return [Edit(r["start"]["offset"], r["end"]["offset"], r["extra"]["fix"].encode(),
                 r["check_id"], r["start"]["line"])
            for r in results if r["extra"].get("fix") is not None]


def plan(source: bytes, edits: list[Edit]) -> tuple[bytes, list[Edit], list[Edit]]:
    """(the fixed content, the edits applied, the edits skipped because they overlap one
    applied before them), semgrep's way: by position, first come first served."""
    ordered = sorted((_with_line_end(source, e) for e in edits), key=lambda e: e.start)
    applied: list[Edit] = []
    skipped: list[Edit] = []
    for edit in ordered:
        if applied and applied[-1][:3] == edit[:3]:
            continue  # the same fix twice (two rules, say) is one fix
        if applied and applied[-1].end > edit.start:
            skipped.append(edit)
            continue
        applied.append(edit)
    fixed = source
    for edit in reversed(applied):  # from the end: earlier offsets stay valid
        fixed = fixed[:edit.start] + edit.text + fixed[edit.end:]
    return fixed, applied, skipped


def _with_line_end(source: bytes, edit: Edit) -> Edit:
    """An empty fix that starts a line also removes the line break after it (deleting a
    statement leaves no blank line)."""
    if edit.text or (edit.start > 0 and source[edit.start - 1:edit.start] != b"\n"):
        return edit
    end = edit.end
    for ending in (b"\r", b"\n"):
        if source[end:end + 1] == ending:
            end += 1
    return edit._replace(end=end)


def fixed_lines(source: bytes, edit: Edit) -> list[str]:
    """The whole lines that ``edit`` alone leaves where it applies."""
    fixed = source[:edit.start] + edit.text + source[edit.end:]
    start, end = edit.start, edit.start + len(edit.text)
    if not fixed or end > len(fixed):
        return []
    probe = start - 1 if fixed[start:start + 1] == b"\n" else start
    first = fixed.rfind(b"\n", 0, probe + 1) + 1
    last = fixed.find(b"\n", end)
    text = fixed[first:last if last >= 0 else len(fixed)].decode("utf-8", "replace")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _fixed_chunks(report: ScanReport) -> dict[int, list[dict[str, Any]]]:
    """Of the report's per-path result arrays, those with a fix: index -> its results."""
    import orjson

    found: dict[int, list[dict[str, Any]]] = {}
    for index, chunk in enumerate(report.results):
        if b'"fix"' in chunk:  # most paths have none: not decoded
            results = orjson.loads(chunk)
            if any(r["extra"].get("fix") is not None for r in results):
                found[index] = results
    return found


class _Checked:
    """Files read back from disk and checked against what the scan matched."""

    def __init__(self, root: Path, db_path: Path, since: int, paths: list[str]) -> None:
        from indexer.store.connection import open_db
        from indexer.store.reader import indexed_contents

        self.root, self.since = root, since
        self.where = {path: self._spellings(path) for path in paths}
        connection = open_db(db_path, readonly=True)
        try:
            self.indexed = indexed_contents(
                connection, sorted({s for spelled in self.where.values() for s in spelled}))
        finally:
            connection.close()

    def _spellings(self, path: str) -> list[str]:
        """The index paths a report's path may stand for: relative to the root, or (as the
        scan's target was typed) absolute or relative to the working folder."""
        below = os.path.relpath(os.path.abspath(path), self.root).replace(os.sep, "/")
        return [p for p in (path, below) if not os.path.isabs(p) and not p.startswith("..")]

    def locate(self, path: str) -> str:
        """The index path of a report's path (as given when the index has none)."""
        return next((p for p in self.where.get(path, []) if p in self.indexed), path)

    def read(self, path: str) -> tuple[bytes, os.stat_result]:
        """The content and stat of the file at index path ``path``; NotApplied when it is
        not what the scan matched."""
        sha, generation = self.indexed.get(path, (None, None))
        if sha is None or generation is None or generation > self.since:
            raise NotApplied(CHANGED)
        try:
            with open(self.file(path), "rb") as handle:
                info = os.fstat(handle.fileno())
                content = handle.read()
        except OSError as exc:
            raise NotApplied(f"cannot read it: {exc.strerror or exc}") from None
        if hashlib.sha256(content).hexdigest() != sha:
            raise NotApplied(CHANGED)
        return content, info

    def file(self, path: str) -> str:
        return os.path.join(self.root, path)


def _problem(path: str, message: str, rule_id: str | None = None) -> dict[str, Any]:
    entry = {"type": "AutofixError", "level": "warn", "path": path, "message": message}
    return {**entry, "rule_id": rule_id} if rule_id else entry


def preview(report: ScanReport, root: Path, db_path: Path, since: int) -> ScanReport:
    """The report with ``extra.fixed_lines`` on each fixed finding (``--dryrun``): nothing
    is written. ``since``: the index generation the scan started from."""
    from indexer import output

    chunks = _fixed_chunks(report)
    checked = _Checked(root, db_path, since, [r[0]["path"] for r in chunks.values()])
    results = list(report.results)
    problems = []
    for index, found in chunks.items():
        path = found[0]["path"]
        try:
            source, _ = checked.read(checked.locate(path))
        except NotApplied as exc:
            problems.append(_problem(path, str(exc)))
            continue
        taken: list[tuple[int, int]] = []  # the ranges of the fixes shown so far
        for result in found:
            edit = next(iter(edits_of([result])), None)
            if edit is None or any(s < edit.end and e > edit.start for s, e in taken):
                continue
            taken.append((edit.start, edit.end))
            lines = fixed_lines(source, edit)
            if lines != [""]:  # whole lines deleted: semgrep shows none
                result["extra"]["fixed_lines"] = lines
        results[index] = output.dumps(found).encode()
    return report._replace(results=results, errors=report.errors + problems)


def apply(report: ScanReport, options: IndexOptions, since: int) -> ScanReport:
    """Apply the report's fixes to the files (``--autofix``) and index the rewritten paths
    again; returns the report with what was skipped among its errors and
    ``stats.autofix`` {files_modified, fixes_applied, fixes_skipped}. ``since``: the index
    generation the scan started from. Raises what ``engine.index`` raises (LockedError,
    DatabaseError)."""
    by_path = {found[0]["path"]: found for found in _fixed_chunks(report).values()}
    checked = _Checked(options.root, options.db_path, since, list(by_path))
    modified: list[str] = []
    problems: list[dict[str, Any]] = []
    applied = skipped = 0
    for path, results in sorted(by_path.items()):
        edits = edits_of(results)
        where = checked.locate(path)
        try:
            source, info = checked.read(where)
            fixed, done, overlapping = plan(source, edits)
            if fixed != source:
                _replace_file(checked.file(where), fixed, info)
                modified.append(where)
        except NotApplied as exc:
            problems.append(_problem(path, str(exc)))
            skipped += len(edits)
            continue
        applied += len(done)
        skipped += len(overlapping)
        problems += [_problem(path, f"the fix at line {e.line} overlaps a fix applied before "
                              "it: not applied (scan again to apply it)", e.rule_id)
                     for e in overlapping]
    if modified:
        _reindex(options, modified)
    stats = {**report.stats, "autofix": {"files_modified": len(modified),
                                         "fixes_applied": applied, "fixes_skipped": skipped}}
    return report._replace(errors=report.errors + problems, stats=stats)


def _replace_file(target: str, content: bytes, before: os.stat_result) -> None:
    """Write ``content`` over the file whole or not at all: a temporary file beside it with
    its mode (and owner, where allowed), renamed over it. A link is followed: its target is
    rewritten. NotApplied when the file changed while the fix was prepared, or cannot be
    written."""
    real = os.path.realpath(target)
    folder, name = os.path.split(real)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".fix")
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(handle, stat.S_IMODE(before.st_mode))
            try:
                os.fchown(handle, before.st_uid, before.st_gid)
            except OSError:  # another user's file: it becomes ours, as an editor's save does
                pass
            stream.write(content)
            stream.flush()
            os.fsync(handle)
        now = os.stat(real)
        if (now.st_ino, now.st_size, now.st_mtime_ns) != (
                before.st_ino, before.st_size, before.st_mtime_ns):
            raise NotApplied(CHANGED)
        os.replace(temporary, real)
        temporary = None
    except OSError as exc:
        raise NotApplied(f"cannot write it: {exc.strerror or exc}") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _reindex(options: IndexOptions, paths: list[str]) -> None:
    """The rewritten paths (and the targets of links among them) indexed again now."""
    from indexer import engine

    wanted = set(paths)
    root = os.path.realpath(options.root)
    for path in paths:
        real = os.path.realpath(os.path.join(options.root, path))
        relative = os.path.relpath(real, root)
        if not relative.startswith(".."):
            wanted.add(relative.replace(os.sep, "/"))
    engine.index(options, paths=wanted)
