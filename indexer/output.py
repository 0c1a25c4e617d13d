"""Scan reports as text, semgrep-compatible JSON and SARIF 2.1.0 (data only; cli prints).
JUnit XML and GitLab SAST are in ``indexer.ci_output``."""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from indexer import __version__

SARIF_LEVEL = {"ERROR": "error", "WARNING": "warning", "INFO": "note"}


def dumps(document: Any) -> str:
    """Compact JSON text of a report, as semgrep writes it (orjson: ~5x json's speed)."""
    import orjson

    return orjson.dumps(document).decode()


def results_of(findings: Any) -> list[dict[str, Any]]:
    """semgrep-format result objects of findings."""
    return [{
        "check_id": f.rule_id, "path": f.path,
        "start": _point(f.start), "end": _point(f.end),
        "extra": {"message": f.message, "severity": f.severity, "lines": f.lines,
                  "metavars": f.metavars, **({"fix": f.fix} if f.fix is not None else {})},
    } for f in findings]


def write_json(report: Any, stream: BinaryIO) -> None:
    """The semgrep-compatible JSON report, streamed from the per-path result arrays as they
    are stored (a kept report of millions of findings is copied through, never re-encoded
    nor joined into one string)."""
    stream.write(b'{"version":' + dumps(__version__).encode() + b',"results":[')
    first = True
    for chunk in report.results:
        if len(chunk) > 2:  # not b"[]"
            if not first:
                stream.write(b",")
            stream.write(memoryview(chunk)[1:-1])
            first = False
    stream.write(b"]," + dumps({"errors": report.errors, "stats": report.stats})[1:].encode())


def _mode_for(path: Path) -> int:
    """The permissions a plain ``open(path, "w")`` would give: the file's own if it exists,
    else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without setting it where Linux tells it (setting it, even
    for a moment, would race with a daemon's other threads)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _point(position: tuple[int, int, int]) -> dict[str, int]:
    return {"line": position[0], "col": position[1], "offset": position[2]}


def as_sarif(report: Any) -> dict[str, Any]:
    rules = {rule.id: rule for rule in report.rules}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "codelens", "version": __version__, "informationUri":
                    "https://pypi.org/project/codelens/",
                "rules": [{"id": rule.id, "shortDescription": {"text": rule.message[:200]},
                           "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]}}
                          for rule in rules.values()]}},
            "results": [{
                "ruleId": f.rule_id, "level": SARIF_LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
                    "region": {"startLine": f.start[0], "startColumn": f.start[1],
                               "endLine": f.end[0], "endColumn": f.end[1],
                               "snippet": {"text": f.lines}}}}],
                **({"fixes": [_sarif_fix(f)]} if f.fix is not None else {}),
            } for f in report.findings],
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
                {"level": "error" if e["level"] == "error" else "warning",
                 "message": {"text": f"{e['path']}: {e['message']}"}} for e in report.errors]}],
        }],
    }


def _sarif_fix(f: Any) -> dict[str, Any]:
    """A finding's fix as a SARIF fix: its region replaced by the fix's text."""
    return {"description": {"text": f.message}, "artifactChanges": [{
        "artifactLocation": {"uri": f.path},
        "replacements": [{"deletedRegion": {"startLine": f.start[0], "startColumn": f.start[1],
                                            "endLine": f.end[0], "endColumn": f.end[1]},
                          "insertedContent": {"text": f.fix}}]}]}


def write(report: Any, fmt: str, stream: BinaryIO) -> None:
    """The report as ``json`` (semgrep-compatible), ``sarif``, ``junit-xml``, ``gitlab-sast``
    or ``text``, then a newline."""
    if fmt == "json":
        write_json(report, stream)
    elif fmt in ("junit-xml", "gitlab-sast"):
        from indexer.ci_output import WRITERS

        WRITERS[fmt](report, stream)
    else:
        stream.write((dumps(as_sarif(report)) if fmt == "sarif" else as_text(report)).encode())
    stream.write(b"\n")


def render(report: Any, fmt: str) -> str:
    """The report as text (for a reply over the socket; a file or the terminal is written to
    with ``write``)."""
    buffer = BytesIO()
    write(report, fmt, buffer)
    return buffer.getvalue().decode().removesuffix("\n")


def write_file(report: Any, fmt: str, path: Path) -> None:
    """The report into ``path`` whole or not at all: a temporary file beside it, renamed over
    it once complete (an interrupted run leaves the previous file as it was). A path that is
    not a regular file (``/dev/null``, a FIFO, a terminal) is written into, never replaced."""
    import stat

    try:
        special = not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        special = False  # not there yet (or unreadable: the rename says why)
    if special:
        with open(path, "wb") as stream:
            write(report, fmt, stream)
        return
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, _mode_for(path))
        with os.fdopen(handle, "wb") as stream:
            write(report, fmt, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def as_text(report: Any) -> str:
    lines = []
    for f in report.findings:
        lines.append(f"{f.path}:{f.start[0]}:{f.start[1]}: {f.severity} {f.rule_id}: {f.message}")
        if f.fix is not None:  # on one line, as semgrep shows it
            lines.append("    ▶▶┆ Autofix ▶ " + (" ".join(
                part.strip() for part in f.fix.split("\n") if part.strip()) or "delete"))
        shown = f.fixed_lines if f.fixed_lines is not None else f.lines.splitlines()
        for source_line in shown[:5]:
            lines.append(f"    {source_line}")
    for e in report.errors:
        where = f"{e['path']}" + (f" (rule {e['rule_id']})" if e.get("rule_id") else "")
        lines.append(f"{e['level']}: {where}: {e['message']}")
    stats = report.stats
    prefilter = stats["prefilter"]
    lines.append(f"{report.total} finding(s), {stats['rules']} rule(s); prefilter skipped "
                 f"{prefilter.get('skipped', 0)} of {prefilter.get('total_files', 0)} file "
                 f"checks in {prefilter.get('time_ms', 0)} ms; cache {stats['cache']['hits']} "
                 f"hits, {stats['cache']['misses']} misses; {stats['elapsed_ms'] / 1000:.2f} s")
    return "\n".join(lines)
