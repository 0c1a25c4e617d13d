"""codelens scan --baseline-commit: only findings new since a commit, in a real git repository."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EVAL_RULE, CliResult, run_codelens, write_tree

Cli = Callable[..., CliResult]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


@pytest.fixture(autouse=True)
def plain_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git without the user's or the system's configuration, for the tests and codelens."""
    (tmp_path / "gitconfig").write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def repository(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    """A git repository holding ``files`` in one commit, tagged ``base``."""
    root = write_tree(tmp_path / "repo", {**files})
    (tmp_path / "rules.yaml").write_text(EVAL_RULE)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "tag", "base")
    return root


def new_findings(cli: Cli, root: Path, *args: str, ref: str = "base",
                 rules: Path | None = None) -> set[tuple[str, int]]:
    with contextlib.chdir(root):  # paths show relative to the root, as typed
        result = cli("scan", ".", "--config", rules or root.parent / "rules.yaml",
                     "--baseline-commit", ref, "--json", *args)
    assert result.code == 0, result.err
    return {(r["path"], r["start"]["line"]) for r in result.json()["results"]}


def test_only_findings_new_since_the_commit(tmp_path: Path, cli: Cli) -> None:
    root = repository(tmp_path, {"old.py": "eval(a)\n", "edited.py": "eval(b)\nx = 1\n",
                                 "committed.py": "eval(c)\n", "same.py": "eval(d)\n"})
    (root / "committed.py").write_text("eval(c)\neval(committed_after)\n")
    git(root, "commit", "-qam", "after")
    (root / "edited.py").write_text("eval(b)\nx = 1\neval(new_in_edit)\n")  # uncommitted
    (root / "untracked.py").write_text("y = 2\neval(new_file)\n")
    assert new_findings(cli, root) == {("edited.py", 3), ("untracked.py", 2),
                                       ("committed.py", 2)}
    # the plain scan still has them all
    plain = cli("scan", root, "--config", tmp_path / "rules.yaml", "--json")
    assert len(plain.json()["results"]) == 7
    # against HEAD, the committed change is old
    assert new_findings(cli, root, ref="HEAD") == {("edited.py", 3), ("untracked.py", 2)}


def test_unchanged_tree_has_no_findings_and_matches_nothing(tmp_path: Path, cli: Cli) -> None:
    root = repository(tmp_path, {"a.py": "eval(a)\n"})
    result = cli("scan", root, "--config", tmp_path / "rules.yaml", "--baseline-commit", "base",
                 "--json")
    report = result.json()
    assert report["results"] == []
    assert report["stats"]["files_matched"] == 0
    assert report["stats"]["baseline"]["changed_paths"] == 0


def test_moved_code_stays_old(tmp_path: Path, cli: Cli) -> None:
    body = "def f():\n    return eval(a)\n"
    root = repository(tmp_path, {"a.py": body})
    # the same code, further down and indented otherwise
    (root / "a.py").write_text("import os\n\n\nclass C:\n    def f():\n        return eval(a)\n")
    assert new_findings(cli, root) == set()
    (root / "a.py").write_text("import os\n\n\ndef f():\n    return eval(other)\n")
    assert new_findings(cli, root) == {("a.py", 5)}  # changed code is new


def test_renamed_files_keep_their_old_findings(tmp_path: Path, cli: Cli) -> None:
    code = "import os\n\n\ndef f(x):\n    os.path.join(x, 'a')\n    return eval(x)\n"
    root = repository(tmp_path, {"pkg/a.py": code, "b.py": code.replace("f(", "g(")})
    git(root, "mv", "pkg/a.py", "pkg/renamed.py")  # staged rename
    (root / "b.py").rename(root / "moved.py")  # a move git does not know of yet
    (root / "pkg" / "renamed.py").write_text(code + "\n\nz = eval(new)\n")
    assert new_findings(cli, root) == {("pkg/renamed.py", 9)}
    git(root, "commit", "-qam", "renamed")
    assert new_findings(cli, root) == {("pkg/renamed.py", 9)}


def test_duplicates_are_counted(tmp_path: Path, cli: Cli) -> None:
    root = repository(tmp_path, {"a.py": "if x:\n    eval(a)\n"})
    (root / "a.py").write_text("if x:\n    eval(a)\nif y:\n    eval(a)\n")
    assert new_findings(cli, root) == {("a.py", 4)}  # one of the two is new
    (root / "a.py").write_text("eval(a)  # nosemgrep\nif y:\n    eval(a)\n")
    # the suppressed one is the old one; the other is new
    assert new_findings(cli, root) == {("a.py", 3)}
    assert new_findings(cli, root, "--disable-nosem") == {("a.py", 3)}


def test_the_compared_code_leaves_nosemgrep_comments_out(tmp_path: Path, cli: Cli) -> None:
    from indexer.baseline import code_of

    source = b"def f():\n    x = eval(a)  # nosemgrep: no-eval\n"
    assert code_of(source, source.index(b"eval"), source.index(b"  #")) == "x = eval(a)"
    root = repository(tmp_path, {"a.py": "x = eval(a)  # nosemgrep\n"})
    (root / "a.py").write_text("x = eval(a)\n")  # the comment goes: an old finding shows
    assert new_findings(cli, root) == set()


def test_root_below_the_repository_top_and_scopes(tmp_path: Path, cli: Cli) -> None:
    root = repository(tmp_path, {"app/src/a.py": "eval(a)\n", "app/other/b.py": "eval(b)\n",
                                 "top.py": "eval(t)\n"})
    for rel in ("app/src/a.py", "app/other/b.py", "top.py"):
        (root / rel).write_text((root / rel).read_text() + "eval(new)\n")
    (root / "app" / ".codelens").mkdir()  # the index root is app/
    app = root / "app"
    with contextlib.chdir(app):
        result = cli("scan", "src", "--config", tmp_path / "rules.yaml", "--baseline-commit",
                     "base", "--json")
    assert result.code == 0, result.err
    assert {(r["path"], r["start"]["line"]) for r in result.json()["results"]} == \
        {("src/a.py", 2)}
    assert new_findings(cli, app, rules=tmp_path / "rules.yaml") == {("src/a.py", 2),
                                                                     ("other/b.py", 2)}


def test_errors(tmp_path: Path, cli: Cli) -> None:
    root = repository(tmp_path, {"a.py": "eval(a)\n"})
    result = cli("scan", root, "--config", tmp_path / "rules.yaml", "--baseline-commit", "nope")
    assert result.code == 2
    assert result.err.startswith("codelens: unknown commit: nope\n")
    assert "Traceback" not in result.err
    plain = write_tree(tmp_path / "plain", {"a.py": "eval(a)\n", ".codelens/.keep": ""})
    result = cli("scan", plain, "--config", tmp_path / "rules.yaml", "--baseline-commit", "HEAD")
    assert result.code == 2
    assert "is not in a git repository" in result.err.splitlines()[0]
    result = cli("scan", root, "--config", tmp_path / "rules.yaml", "--baseline-commit=-x")
    assert result.code == 2 and "unknown commit" in result.err


def test_git_missing(tmp_path: Path) -> None:
    root = repository(tmp_path, {"a.py": "eval(a)\n"})
    (tmp_path / "bin").mkdir()  # a PATH without git
    done = run_codelens("scan", root, "--config", tmp_path / "rules.yaml", "--baseline-commit",
                        "base", env={"PATH": str(tmp_path / "bin")})
    assert done.returncode == 2
    assert done.stderr.startswith("codelens: cannot run git"), done.stderr
    assert "Traceback" not in done.stderr


def test_with_the_roots_daemon_running(tmp_path: Path, cli: Cli, private_homes: Path) -> None:
    """The daemon's own kept reports are no baseline scan: the CLI runs it in-process."""
    from indexer.service import client

    root = repository(tmp_path, {"a.py": "eval(a)\n"})
    (root / "a.py").write_text("eval(a)\neval(b)\n")
    client.start(root, idle_timeout=60)
    try:
        assert new_findings(cli, root) == {("a.py", 2)}
        assert len(cli("scan", root, "--config", tmp_path / "rules.yaml", "--json")
                   .json()["results"]) == 2
    finally:
        client.stop(root)
