"""Scan reports for CI consumers: JUnit XML and the GitLab SAST security report (data only).

Both are written in the shape semgrep's ``--junit-xml`` and ``--gitlab-sast`` give, so the CI
jobs, test-report widgets and security dashboards that read semgrep's read these. They are
streamed from the report's per-path result arrays, one path's findings at a time: however
many findings a scan has, the work is linear and memory holds one path's worth.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

from indexer import __version__

GITLAB_SAST_VERSION = "15.0.4"  # the security report schema version written (as semgrep)
GITLAB_SAST_SCHEMA = ("https://gitlab.com/gitlab-org/security-products/security-report-schemas"
                      f"/-/raw/v{GITLAB_SAST_VERSION}/dist/sast-report-format.json")
GITLAB_SEVERITY = {"ERROR": "High", "WARNING": "Medium", "INFO": "Info", "CRITICAL": "Critical",
                   "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low"}
CODELENS = {"id": "codelens", "name": "codelens", "vendor": {"name": "codelens"}}
CODELENS_URL = "https://pypi.org/project/codelens/"
NAME_MAX = 255  # the schema's bound on a vulnerability's name
DESCRIPTION_MAX = 1_048_576  # and on its description
# characters XML 1.0 cannot hold at all, not even as references (source lines may have them)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _results(report: Any) -> Iterator[list[dict[str, Any]]]:
    """The report's semgrep-format results, one path's list at a time."""
    import orjson

    for chunk in report.results:
        if len(chunk) > 2:  # not b"[]"
            yield orjson.loads(chunk)


def _attr(value: object) -> str:
    return quoteattr(NOT_XML.sub("\ufffd", str(value)))


def _text(value: str) -> str:
    return escape(NOT_XML.sub("\ufffd", value))


def write_junit_xml(report: Any, stream: BinaryIO) -> None:
    """JUnit XML: a test suite ``codelens results`` with one failed test case per finding
    (named by the rule id, classname and file the path, the finding's line; the failure's type
    is the severity, its message the rule message, its text the matched lines), as semgrep
    writes it. Errors go to a second suite, ``codelens errors``: a rule that could not run is
    an ``<error>``, a rule or file skipped for one file (timeout, parse problem) ``<skipped>``."""
    errors = report.errors
    hard = sum(1 for e in errors if e.get("level") == "error")
    seconds = f"{report.stats.get('elapsed_ms', 0) / 1000:.3f}"
    total = report.total
    stream.write((
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="codelens" tests="{total + len(errors)}" failures="{total}" '
        f'errors="{hard}" skipped="{len(errors) - hard}" time="{seconds}">\n'
        f'<testsuite name="codelens results" tests="{total}" failures="{total}" errors="0" '
        f'skipped="0" time="{seconds}" timestamp="{_utc_now()}">\n').encode())
    for results in _results(report):
        stream.write("".join(map(_junit_case, results)).encode())
    stream.write(b"</testsuite>\n")
    if errors:
        stream.write((
            f'<testsuite name="codelens errors" tests="{len(errors)}" failures="0" '
            f'errors="{hard}" skipped="{len(errors) - hard}" time="0">\n'
            + "".join(map(_junit_error, errors)) + "</testsuite>\n").encode())
    stream.write(b"</testsuites>")


def _junit_case(result: dict[str, Any]) -> str:
    extra = result["extra"]
    return (f'<testcase name={_attr(result["check_id"])} classname={_attr(result["path"])} '
            f'file={_attr(result["path"])} line="{result["start"]["line"]}">'
            f'<failure type={_attr(extra["severity"])} message={_attr(extra["message"])}>'
            f'{_text(extra["lines"])}</failure></testcase>\n')


def _junit_error(error: dict[str, Any]) -> str:
    kind = error.get("type", "Error")
    element = "error" if error.get("level") == "error" else "skipped"
    return (f'<testcase name={_attr(error.get("rule_id") or kind)} '
            f'classname={_attr(error.get("path", ""))} file={_attr(error.get("path", ""))}>'
            f'<{element} type={_attr(kind)} message={_attr(error["message"])}/></testcase>\n')


def write_gitlab_sast(report: Any, stream: BinaryIO) -> None:
    """The GitLab SAST security report (schema version ``GITLAB_SAST_VERSION``): the scan
    (codelens as analyzer and scanner, start and end time, status, and each error of the
    report as a ``warn`` message: the scan went on past it) and one vulnerability per finding,
    with semgrep's fields (``id``, ``category``, ``cve``, ``message``, ``description``,
    ``severity``, ``scanner``, ``location``, ``identifiers`` naming the rule)."""
    import orjson

    end = time.time()
    start = end - report.stats.get("elapsed_ms", 0) / 1000
    tool = {**CODELENS, "url": CODELENS_URL, "version": __version__}
    head = {"schema": GITLAB_SAST_SCHEMA, "version": GITLAB_SAST_VERSION, "scan": {
        "analyzer": tool, "scanner": tool, "type": "sast", "status": "success",
        "start_time": _utc(start), "end_time": _utc(end),
        "messages": [{"level": "warn", "value": _error_line(e)} for e in report.errors]}}
    stream.write(orjson.dumps(head)[:-1] + b',"vulnerabilities":[')
    first = True
    for results in _results(report):
        if not first:
            stream.write(b",")
        stream.write(orjson.dumps(list(map(_vulnerability, results)))[1:-1])
        first = False
    stream.write(b"]}")


def _vulnerability(result: dict[str, Any]) -> dict[str, Any]:
    rule, path, extra = result["check_id"], result["path"], result["extra"]
    message = extra["message"]
    where = f"{rule}\0{path}\0{result['start']['offset']}\0{result['end']['offset']}"
    return {
        # the same finding keeps its id from one pipeline to the next
        "id": str(uuid.UUID(bytes=hashlib.sha256(where.encode()).digest()[:16], version=5)),
        "category": "sast",
        "name": (message.splitlines() or [rule])[0][:NAME_MAX] or rule[:NAME_MAX],
        "message": message,
        "description": message[:DESCRIPTION_MAX],
        # semgrep's stand-in for a CVE, which GitLab once required: path, its hash, rule
        "cve": f"{path}:{hashlib.sha256(path.encode()).hexdigest()}:{rule}",
        "severity": GITLAB_SEVERITY.get(extra["severity"], "Unknown"),
        "scanner": CODELENS,
        "location": {"file": path, "start_line": result["start"]["line"],
                     "end_line": result["end"]["line"]},
        "identifiers": [{"type": "semgrep_type", "name": f"Semgrep - {rule}", "value": rule}],
    }


def _error_line(error: dict[str, Any]) -> str:
    rule = f" (rule {error['rule_id']})" if error.get("rule_id") else ""
    return f"{error.get('path', '')}{rule}: {error['message']}"


def _utc(seconds: float) -> str:
    """The schema's time format: UTC, to the second, no zone suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _utc_now() -> str:
    return _utc(time.time())


WRITERS: dict[str, Callable[[Any, BinaryIO], None]] = {
    "junit-xml": write_junit_xml, "gitlab-sast": write_gitlab_sast}
