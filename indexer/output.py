"""Scan reports as text, semgrep-compatible JSON and SARIF 2.1.0 (data only; cli prints)."""

from __future__ import annotations

from typing import Any

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
                  "metavars": f.metavars},
    } for f in findings]


def json_text(report: Any) -> str:
    """The semgrep-compatible JSON report, assembled from the per-path result arrays as they
    are stored (a kept report of thousands of findings is joined, not re-encoded)."""
    results = ",".join(text[1:-1] for text in report.results if text != "[]")
    tail = dumps({"errors": report.errors, "stats": report.stats})[1:]
    return f'{{"version":{dumps(__version__)},"results":[{results}],{tail}'


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
            } for f in report.findings],
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": [
                {"level": "error" if e["level"] == "error" else "warning",
                 "message": {"text": f"{e['path']}: {e['message']}"}} for e in report.errors]}],
        }],
    }


def render(report: Any, fmt: str) -> str:
    """The report as ``json`` (semgrep-compatible), ``sarif`` or ``text``."""
    if fmt == "json":
        return json_text(report)
    if fmt == "sarif":
        return dumps(as_sarif(report))
    return as_text(report)


def as_text(report: Any) -> str:
    lines = []
    for f in report.findings:
        lines.append(f"{f.path}:{f.start[0]}:{f.start[1]}: {f.severity} {f.rule_id}: {f.message}")
        for source_line in f.lines.splitlines()[:5]:
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
