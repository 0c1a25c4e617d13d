"""Autofix: rules' fix: and fix-regex:, extra.fix, scan --autofix and --dryrun on real files."""

from __future__ import annotations

import contextlib
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexer.match.fixes import FixRegex, interpolate, substitute
from tests.conftest import CliResult, db_rows, run_unprivileged, write_tree

Cli = Callable[..., CliResult]

RULES = """rules:
  - id: use-sys-exit
    languages: [python]
    message: exit($X) is for the shell
    severity: WARNING
    pattern: exit($X)
    fix: sys.exit($X)
  - id: old-api
    languages: [python]
    message: old_api
    severity: INFO
    pattern: old_api($FIRST, $...REST)
    fix: new_api($...REST, first=$FIRST)
  - id: loud-print
    languages: [python]
    message: print
    severity: INFO
    pattern: print(...)
    fix-regex:
      regex: '([a-z]+)'
      replacement: '\\1_'
      count: 2
"""
SOURCE = ("import sys\n"
          "exit(1)\n"
          "old_api(a)\n"
          "old_api(a, b, c)\n"
          "print(x, y, z)\n"
          "def main():\n"
          "    exit(code + 1)\n")
FIXED = ("import sys\n"
         "sys.exit(1)\n"
         "new_api(first=a)\n"
         "new_api(b, c, first=a)\n"
         "print_(x_, y, z)\n"
         "def main():\n"
         "    sys.exit(code + 1)\n")


@pytest.fixture
def project(tree: Callable[..., Path]) -> Path:
    return tree({"rules.yaml": RULES, "src/a.py": SOURCE})


def scan(cli: Cli, root: Path, *args: str, rules: str = "rules.yaml") -> CliResult:
    """A scan of ``src`` typed from the project folder (reports say ``src/...``)."""
    with contextlib.chdir(root):
        return cli("scan", "src", "--config", rules, "--root", ".", *args)


def fixes_of(report: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    return [(r["check_id"], r["start"]["line"], r["extra"].get("fix"))
            for r in report["results"]]


def test_json_carries_each_fix_with_metavariables_put_in(project: Path, cli: Cli) -> None:
    result = scan(cli, project, "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert fixes_of(report) == [
        ("use-sys-exit", 2, "sys.exit(1)"),
        ("old-api", 3, "new_api(first=a)"),  # the empty $...REST took its comma along
        ("old-api", 4, "new_api(b, c, first=a)"),
        ("loud-print", 5, "print_(x_, y, z)"),  # fix-regex, count: 2
        ("use-sys-exit", 7, "sys.exit(code + 1)")]
    assert all("fixed_lines" not in r["extra"] for r in report["results"])
    assert (project / "src/a.py").read_text() == SOURCE  # a scan alone writes nothing
    sarif = scan(cli, project, "--sarif").json()["runs"][0]["results"]
    change = sarif[0]["fixes"][0]["artifactChanges"][0]
    assert change["replacements"][0]["insertedContent"]["text"] == "sys.exit(1)"
    assert change["replacements"][0]["deletedRegion"]["startLine"] == 2


def test_autofix_rewrites_and_the_index_sees_it_at_once(project: Path, cli: Cli) -> None:
    target = project / "src/a.py"
    target.chmod(0o751)
    result = scan(cli, project, "--autofix", "--json")
    assert result.code == 0, result.err
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert result.json()["stats"]["autofix"] == {"files_modified": 1, "fixes_applied": 5,
                                                 "fixes_skipped": 0}
    assert "5 fix(es) applied in 1 file(s)" in result.err
    assert [p.name for p in target.parent.iterdir()] == ["a.py"]  # no temporary left
    # the index holds the new content before the command returned
    import hashlib

    (sha,), = db_rows(project, "SELECT sha256 FROM files WHERE path = 'src/a.py'")
    assert sha == hashlib.sha256(FIXED.encode()).hexdigest()
    words = {w for (w,) in db_rows(project, "SELECT token FROM file_tokens "
                                   "WHERE path = 'src/a.py'")}
    assert "new_api" in words and "old_api" not in words
    query = cli("query", "SELECT count(*) AS n FROM symbols WHERE name = 'main'",
                "--root", project, "--json")
    assert query.json() == [{"n": 1}]
    again = scan(cli, project, "--json").json()
    assert again["results"] == []  # nothing left to fix


def test_dryrun_shows_the_fixed_lines_and_writes_nothing(project: Path, cli: Cli) -> None:
    target = project / "src/a.py"
    before = target.stat()
    result = scan(cli, project, "--dryrun", "--json")
    assert result.code == 0, result.err
    fixed = [r["extra"].get("fixed_lines") for r in result.json()["results"]]
    assert fixed == [["sys.exit(1)"], ["new_api(first=a)"], ["new_api(b, c, first=a)"],
                     ["print_(x_, y, z)"], ["    sys.exit(code + 1)"]]
    text = scan(cli, project, "--autofix", "--dryrun")  # --dryrun wins: nothing written
    assert "▶▶┆ Autofix ▶ sys.exit(1)" in text.out
    assert "\n        sys.exit(code + 1)\n" in text.out  # the fixed line, not the source's
    after = target.stat()
    assert target.read_text() == SOURCE
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


NESTED = """rules:
  - id: wrap
    languages: [python]
    message: wrap
    severity: INFO
    pattern: f($X)
    fix: g($X)
  - id: wrap-again
    languages: [python]
    message: the same fix under another id
    severity: INFO
    pattern: f($X)
    fix: g($X)
"""


def test_overlapping_fixes_apply_outer_first_and_never_garble(tree: Callable[..., Path],
                                                             cli: Cli) -> None:
    root = tree({"nested.yaml": NESTED, "src/n.py": "f(f(1))\nf(2)\n"})
    dry = scan(cli, root, "--dryrun", "--json", rules="nested.yaml").json()
    shown = [(r["start"]["col"], r["extra"].get("fixed_lines")) for r in dry["results"]]
    # in report order; the inner call's fix overlaps the outer one shown before it
    assert shown == [(1, ["g(f(1))"]), (1, None), (3, None), (3, None), (1, ["g(2)"]),
                     (1, None)]
    result = scan(cli, root, "--autofix", "--json", rules="nested.yaml")
    assert (root / "src/n.py").read_text() == "g(f(1))\ng(2)\n"
    report = result.json()
    # two rules giving the same fix to the same code are one fix; the inner one waits
    assert report["stats"]["autofix"] == {"files_modified": 1, "fixes_applied": 2,
                                          "fixes_skipped": 2}
    skipped = [e for e in report["errors"] if e["type"] == "AutofixError"]
    assert {(e["path"], e["rule_id"]) for e in skipped} == {("src/n.py", "wrap"),
                                                            ("src/n.py", "wrap-again")}
    assert all("overlaps a fix applied before it" in e["message"] for e in skipped)
    scan(cli, root, "--autofix", rules="nested.yaml")  # the next run applies the inner one
    assert (root / "src/n.py").read_text() == "g(g(1))\ng(2)\n"


LAYOUT = """rules:
  - id: drop-debug
    languages: [python]
    message: no debug calls
    severity: INFO
    pattern: debug(...)
    fix: ""
  - id: split-call
    languages: [python]
    message: two steps
    severity: INFO
    pattern: setup($X)
    fix: |-
      prepare($X)
      start($X)
"""


def test_deletions_take_their_line_and_multiline_fixes_line_up(tree: Callable[..., Path],
                                                               cli: Cli) -> None:
    source = "def run(x):\n    debug(x)\n    setup(x)\n    return x\n"
    root = tree({"layout.yaml": LAYOUT, "src/l.py": source})
    dry = scan(cli, root, "--dryrun", "--json", rules="layout.yaml").json()
    assert [r["extra"].get("fixed_lines") for r in dry["results"]] == [
        ["    "], ["    prepare(x)", "    start(x)"]]  # (a deletion inside a line: shown)
    scan(cli, root, "--autofix", rules="layout.yaml")
    assert (root / "src/l.py").read_text() == (
        "def run(x):\n    \n    prepare(x)\n    start(x)\n    return x\n")
    whole = tree({"src/w.py": "debug(1)\nkeep()\n"})
    scan(cli, whole, "--autofix", rules="layout.yaml")
    assert (whole / "src/w.py").read_text() == "keep()\n"  # the line and its break went


def test_a_file_changed_after_indexing_is_not_clobbered(project: Path, cli: Cli) -> None:
    from indexer import autofix
    from indexer.scan import ScanOptions
    from indexer.scan import scan as run_scan
    from indexer.settings import IndexOptions

    assert cli("index", project, "--quiet").code == 0
    db = project / ".codelens" / "index.db"
    (generation,), = db_rows(project, "SELECT max(generation) FROM generations")
    report = run_scan(ScanOptions(project, db, [project / "rules.yaml"], ["src"]))
    edited = SOURCE.replace("exit(1)", "exit(10)  # edited meanwhile")
    (project / "src/a.py").write_text(edited)  # after the scan, not indexed yet
    fixed = autofix.apply(report, IndexOptions(project, db), generation)
    assert (project / "src/a.py").read_text() == edited
    assert fixed.stats["autofix"] == {"files_modified": 0, "fixes_applied": 0,
                                      "fixes_skipped": 5}
    (problem,) = [e for e in fixed.errors if e["type"] == "AutofixError"]
    assert problem["path"] == "src/a.py" and "changed since it was indexed" in problem["message"]
    # indexed again after the scan began: the report's offsets are not this content's
    assert cli("index", project, "--quiet").code == 0
    again = autofix.apply(report, IndexOptions(project, db), generation)
    assert (project / "src/a.py").read_text() == edited
    assert again.stats["autofix"]["fixes_skipped"] == 5
    shown = autofix.preview(report, project, db, generation)
    assert "fixed_lines" not in str(shown.results)
    assert any(e["type"] == "AutofixError" for e in shown.errors)


def test_a_link_keeps_being_a_link(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"rules.yaml": RULES, "src/real.py": "exit(3)\n"})
    (root / "src/link.py").symlink_to("real.py")
    scan(cli, root, "--autofix")
    assert (root / "src/link.py").is_symlink()
    assert (root / "src/real.py").read_text() == "sys.exit(3)\n"
    rows = dict(db_rows(root, "SELECT path, sha256 FROM files"))
    assert rows["src/link.py"] == rows["src/real.py"]  # both indexed again


def test_bad_fix_regex_is_a_rule_error(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"bad.yaml": """rules:
  - id: no-replacement
    languages: [python]
    message: m
    severity: INFO
    pattern: exit(...)
    fix-regex: {regex: 'exit'}
  - id: bad-count
    languages: [python]
    message: m
    severity: INFO
    pattern: exit(...)
    fix-regex: {regex: 'exit', replacement: 'quit', count: -1}
  - id: bad-regex
    languages: [python]
    message: m
    severity: INFO
    pattern: exit(...)
    fix-regex: {regex: '(', replacement: 'quit'}
  - id: fine
    languages: [python]
    message: m
    severity: INFO
    pattern: exit(...)
    fix-regex: {regex: 'exit', replacement: 'quit'}
""", "src/a.py": "exit(0)\n"})
    report = scan(cli, root, "--json", rules="bad.yaml").json()
    problems = {e["rule_id"]: e["message"] for e in report["errors"]}
    assert "replacement" in problems["no-replacement"]
    assert "count" in problems["bad-count"]
    assert "invalid regex" in problems["bad-regex"]
    assert fixes_of(report) == [("fine", 1, "quit(0)")]


def test_replacement_groups_and_metavariable_names() -> None:
    def sub(regex: str, replacement: str, text: str, count: int | None = None) -> str:
        return substitute(FixRegex(regex, replacement, count), text)

    assert sub(r"(\w+)=(\w+)", r"\2=\1", "a=b c=d") == "b=a d=c"
    assert sub(r"(\w+)=(\w+)", "$2=${1}", "a=b c=d", 1) == "b=a c=d"
    assert sub(r"x", "$$1 \\n", "x") == "$1 \\n"  # $$ is a dollar; a backslash is itself
    assert sub(r"x", "y", "xxx", 0) == "xxx"
    assert interpolate("f($X2, $X, value($X))", {"$X": "a", "$X2": "b"}) == "f(b, a, a)"
    # bound code that looks like a metavariable is not interpolated again
    assert interpolate("$A + $B", {"$A": "$B", "$B": "c"}) == "$B + c"
    assert interpolate("g($...ARGS, last)", {"$...ARGS": ""}) == "g(last)"
    assert interpolate("g($Y)", {"$X": "a"}) == "g($Y)"  # unbound: kept as written


def test_autofix_beside_a_running_daemon(project: Path, cli: Cli,
                                         private_homes: Path) -> None:
    from indexer.service import client

    client.start(project)
    served = client.call(project, "scan", {"configs": [str(project / "rules.yaml")],
                                           "paths": ["src"], "output": "json"})
    assert served["findings"] == 5
    result = scan(cli, project, "--autofix")
    assert result.code == 0, result.err
    assert (project / "src/a.py").read_text() == FIXED
    after = client.call(project, "scan", {"configs": [str(project / "rules.yaml")],
                                          "paths": ["src"], "output": "json"})
    assert after["findings"] == 0  # the daemon's next scan sees the fixed file
    assert cli("daemon", "stop", project).code == 0



def test_rule_tests_check_fixed_files(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"suite/exits.yaml": RULES,
                 "suite/exits.py": "# ruleid: use-sys-exit\nexit(1)\n",
                 "suite/exits.fixed.py": "# ruleid: use-sys-exit\nsys.exit(1)\n"})
    passed = cli("test", root / "suite")
    assert passed.code == 0, passed.out
    assert "1 passed, 0 failed" in passed.out
    (root / "suite/exits.fixed.py").write_text("# ruleid: use-sys-exit\nquit(1)\n")
    failed = cli("test", root / "suite")
    assert failed.code == 1
    assert ("the fixes of exits.py differ from exits.fixed.py at line 2: 'sys.exit(1)' "
            "instead of 'quit(1)'") in failed.out


def test_a_file_in_a_folder_it_cannot_write_is_reported(public_tmp: Path) -> None:
    root = write_tree(public_tmp / "project", {"rules.yaml": RULES, "src/a.py": SOURCE,
                                               "other/b.py": "exit(2)\n"})
    (root / "src").chmod(0o555)
    out = run_unprivileged(
        "import json, os\n"
        "os.environ['CODELENS_NO_DAEMON'] = '1'\n"
        "from indexer.cli import main\n"
        f"code = main(['scan', {str(root)!r}, '--root', {str(root)!r}, '--config',"
        f" {str(root / 'rules.yaml')!r},"
        f" '--autofix', '--json', '--output', {str(public_tmp / 'report.json')!r}])\n"
        f"print(code, open({str(root / 'other/b.py')!r}).read().strip())\n")
    assert out.strip().splitlines()[-1] == "0 sys.exit(2)"  # the other file was fixed
    assert (root / "src/a.py").read_text() == SOURCE
    report = json.loads((public_tmp / "report.json").read_text())
    (problem,) = [e for e in report["errors"] if e["type"] == "AutofixError"]
    assert problem["path"] == str(root / "src/a.py")  # as typed: absolute
    assert "cannot write it" in problem["message"]
    assert report["stats"]["autofix"]["files_modified"] == 1
    assert [p.name for p in (root / "src").iterdir()] == ["a.py"]


def test_plan_orders_by_position_and_inserts_once() -> None:
    from indexer.autofix import Edit, plan

    def edit(start: int, end: int, text: str, rule: str = "r") -> Edit:
        return Edit(start, end, text.encode(), rule, 1)

    source = b"0123456789"
    fixed, applied, skipped = plan(source, [edit(6, 8, "b"), edit(1, 4, "a"), edit(3, 5, "x"),
                                            edit(9, 9, "+"), edit(9, 9, "+", "other")])
    assert fixed == b"0a45b8+9"
    assert [e.text for e in applied] == [b"a", b"b", b"+"]
    assert [e.text for e in skipped] == [b"x"]  # it overlaps "a", which starts first
    assert plan(source, [edit(4, 6, "b"), edit(1, 4, "a")])[0] == b"0ab6789"  # they touch

