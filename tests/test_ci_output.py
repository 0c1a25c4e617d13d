"""CI outputs of codelens scan (JUnit XML, GitLab SAST) and its exit codes, as semgrep's."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from indexer.service import client
from tests.conftest import REPO, CliResult

Cli = Callable[..., CliResult]
GITLAB_SCHEMA = json.loads((REPO / "tests" / "schemas" / "gitlab-sast-15.json").read_text())
RULES = """rules:
  - id: no-eval
    languages: [python]
    message: eval of $X <"&">
    severity: ERROR
    pattern: eval($X)
  - id: shell-true
    languages: [python]
    message: shell=True in subprocess.$F
    severity: WARNING
    pattern: subprocess.$F(..., shell=True, ...)
  - id: never-matches
    languages: [python]
    message: nothing
    severity: INFO
    pattern: this_name_is_nowhere()
"""
BROKEN_RULE = """rules:
  - id: not-python
    languages: [python]
    message: m
    severity: ERROR
    pattern: "def (:"
"""
# a control character (not allowed in XML 1.0) and markup in the matched line
A_PY = ("import subprocess\nsubprocess.call(cmd, shell=True)\n"
        "x = eval(data)\ny = eval('<a & \x01 b>')\n")


def project(tree: Callable[..., Path]) -> Path:
    return tree({"rules/rules.yaml": RULES, "rules/broken.yaml": BROKEN_RULE, "src/a.py": A_PY,
                 "src/clean.py": "print('nothing here')\n"})


def scan_to(cli: Cli, root: Path, target: str, fmt: str, out: Path, *args: str) -> CliResult:
    """A scan of ``target`` typed from the project folder (paths show as ``src/...``)."""
    with contextlib.chdir(root):
        return cli("scan", target, "--config", "rules", "--root", ".", fmt, "--output", out,
                   *args)


def test_junit_xml_is_read_by_a_junit_consumer(tree: Callable[..., Path], cli: Cli,
                                               tmp_path: Path) -> None:
    root = project(tree)
    out = tmp_path / "report.xml"
    result = scan_to(cli, root, "src", "--junit-xml", out)
    assert result.code == 0 and result.out == "", result.err
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(out))}
    assert set(suites) == {"codelens results", "codelens errors"}
    found = suites["codelens results"]
    assert (found.tests, found.failures, found.errors) == (3, 3, 0)
    cases = [(case.name, case.classname, case.result[0]) for case in found]
    assert [(name, path) for name, path, _ in cases] == [
        ("shell-true", "src/a.py"), ("no-eval", "src/a.py"), ("no-eval", "src/a.py")]
    assert all(isinstance(failure, Failure) for _, _, failure in cases)
    shell, first_eval, second_eval = (failure for _, _, failure in cases)
    assert (shell.type, shell.message) == ("WARNING", "shell=True in subprocess.call")
    assert shell.text == "subprocess.call(cmd, shell=True)"
    assert (first_eval.type, first_eval.message) == ("ERROR", 'eval of data <"&">')
    assert second_eval.text == "y = eval('<a & \ufffd b>')"  # markup kept, the \x01 replaced
    assert [case._elem.get("line") for case in found] == ["2", "3", "4"]
    errors = suites["codelens errors"]
    (broken,) = list(errors)
    assert broken.name == "not-python" and broken.classname.endswith("broken.yaml")
    assert isinstance(broken.result[0], Error)
    assert "pattern is not valid python" in broken.result[0].message


def test_junit_xml_without_findings_and_with_skips(tree: Callable[..., Path], cli: Cli,
                                                   tmp_path: Path) -> None:
    root = tree({"rules.yaml": RULES, "src/clean.py": "print('nothing')\n",
                 "src/bad.py": "def broken(:\n    eval(x)\n"})
    out = tmp_path / "empty.xml"
    assert cli("scan", root / "src" / "clean.py", "--config", root / "rules.yaml", "--root",
               root, "--junit-xml", "--output", out, "--error").code == 0
    (suite,) = JUnitXml.fromfile(str(out))
    assert (suite.name, suite.tests, suite.failures, len(list(suite))) == (
        "codelens results", 0, 0, 0)
    stdout = cli("scan", root / "src", "--config", root / "rules.yaml", "--root", root,
                 "--junit-xml")
    assert stdout.out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    report = JUnitXml.fromstring(stdout.out.encode())
    skipped = [case for suite in report if suite.name == "codelens errors" for case in suite]
    assert all(isinstance(case.result[0], Skipped) for case in skipped)  # warnings: skipped


def test_gitlab_sast_follows_the_security_report_schema(tree: Callable[..., Path], cli: Cli,
                                                        tmp_path: Path) -> None:
    root = project(tree)
    out = tmp_path / "gl-sast-report.json"
    result = scan_to(cli, root, "src", "--gitlab-sast", out)
    assert result.code == 0 and result.out == "", result.err
    report = json.loads(out.read_text())
    jsonschema.validate(report, GITLAB_SCHEMA)
    scan = report["scan"]
    assert (scan["type"], scan["status"], scan["scanner"]["id"]) == ("sast", "success",
                                                                      "codelens")
    assert scan["start_time"] <= scan["end_time"]
    (message,) = scan["messages"]
    assert message["level"] == "warn" and "not-python" in message["value"]
    found = [(v["identifiers"][0]["value"], v["location"]["file"], v["location"]["start_line"],
              v["severity"]) for v in report["vulnerabilities"]]
    assert found == [("shell-true", "src/a.py", 2, "Medium"), ("no-eval", "src/a.py", 3, "High"),
                     ("no-eval", "src/a.py", 4, "High")]
    assert len({v["id"] for v in report["vulnerabilities"]}) == 3
    with contextlib.chdir(root):
        again = json.loads(cli("scan", "src", "--config", "rules", "--gitlab-sast").out)
    assert [v["id"] for v in again["vulnerabilities"]] == [
        v["id"] for v in report["vulnerabilities"]]  # stable across runs, for tracking


def test_gitlab_sast_without_findings_is_valid(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree)
    result = cli("scan", root / "src" / "clean.py", "--config", root / "rules" / "rules.yaml",
                 "--root", root, "--gitlab-sast", "--error")
    assert result.code == 0, result.err
    report = result.json()
    jsonschema.validate(report, GITLAB_SCHEMA)
    assert report["vulnerabilities"] == [] and report["scan"]["messages"] == []


@pytest.mark.parametrize("fmt", ["--json", "--sarif", "--junit-xml", "--gitlab-sast", None])
def test_exit_codes_as_semgrep_gives_them(tree: Callable[..., Path], cli: Cli, tmp_path: Path,
                                          fmt: str | None) -> None:
    root = project(tree)
    formats = [fmt] if fmt else []

    def code(target: str, *args: str) -> int:
        return cli("scan", root / target, "--config", root / "rules", "--root", root,
                   *formats, *args).code

    assert code("src") == 0  # findings (and a rule error), no --error
    assert code("src", "--error") == 1  # findings with --error, a rule error beside them
    assert code("src/clean.py", "--error") == 0  # a rule error alone does not fail the scan
    out = tmp_path / "report"
    assert code("src", "--error", "--output", str(out)) == 1 and out.stat().st_size > 0
    fatal = cli("scan", root / "src", "--config", root / "rules" / "broken.yaml", "--root",
                root, *formats, "--output", str(tmp_path / "never"))
    assert fatal.code == 2 and "no rule could run" in fatal.err  # no rule: no report
    assert not (tmp_path / "never").exists() and "Traceback" not in fatal.err
    assert cli("scan", root / "nowhere", "--config", root / "rules", *formats).code == 2


def test_the_daemon_renders_the_ci_formats(tree: Callable[..., Path], cli: Cli, tmp_path: Path,
                                           private_homes: Path) -> None:
    root = project(tree)
    client.start(root)
    before = client.call(root, "ping")["requests"]
    junit = cli("scan", root / "src", "--config", root / "rules", "--junit-xml", "--error")
    assert junit.code == 1
    suites = {suite.name: suite.tests for suite in JUnitXml.fromstring(junit.out.encode())}
    assert suites == {"codelens results": 3, "codelens errors": 1}
    out = tmp_path / "gl.json"
    gitlab = cli("scan", root / "src", "--config", root / "rules", "--gitlab-sast",
                 "--output", out)
    assert gitlab.code == 0 and gitlab.out == ""
    report = json.loads(out.read_text())  # written by the daemon itself
    jsonschema.validate(report, GITLAB_SCHEMA)
    assert len(report["vulnerabilities"]) == 3
    assert client.call(root, "ping")["requests"] == before + 2  # both served by the daemon
