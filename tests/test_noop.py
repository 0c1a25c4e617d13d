"""The no-op fast path: a run whose tree digest equals the last complete run's does no walk.
Every kind of change must turn it off (and get indexed); nothing else may."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult, db_rows, index_json, run_unprivileged

Cli = Callable[..., CliResult]
FILES: dict[str, str | bytes] = {
    "src/a.py": "def alpha():\n    return 1\n",
    "src/b.js": "function beta() { return 2; }\n",
    "notes.txt": "plain\n",
    ".gitignore": "build/\n*.log\n",
    "build/out.py": "def ignored():\n    pass\n",
    "debug.log": "ignored too\n",
}


def fast(summary: dict[str, object]) -> bool:
    walk = summary["walk"]
    assert isinstance(walk, dict)
    return bool(walk["tree_unchanged"])


def paths(root: Path) -> set[str]:
    return {path for (path,) in db_rows(root, "SELECT path FROM files")}


def bump(path: Path, text: str) -> None:
    """Rewrite with a new mtime even within the file system's timestamp granularity."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_an_unchanged_tree_skips_the_walk(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree(FILES)
    first = index_json(cli, root)
    assert not fast(first) and first["files"]["added"] == 4  # build/ and *.log ignored
    second = index_json(cli, root)
    assert fast(second)
    assert second["files"] == {**first["files"], "unchanged": 4, "added": 0, "parsed": 0,
                               "skipped": 0}
    assert second["generation"] == first["generation"]
    status = cli("status", root, "--json").json()
    assert status["last_run"]["summary"]["walk"]["tree_unchanged"] is True
    assert fast(index_json(cli, root))  # and again
    text = cli("index", root)
    assert text.code == 0 and "nothing changed since the last complete run" in text.out


CHANGES: dict[str, tuple[Callable[[Path], None], set[str] | None]] = {
    # name: (change, the indexed paths afterwards, or None for "as before")
    "edit": (lambda r: bump(r / "src/a.py", "def alpha():\n    return 100\n"), None),
    "same size": (lambda r: bump(r / "src/a.py", "def alphA():\n    return 1\n"), None),
    "touch": (lambda r: os.utime(r / "notes.txt", ns=(1, 1)), None),
    "add": (lambda r: (r / "src/c.py").write_text("x = 1\n"),
            {"src/a.py", "src/b.js", "notes.txt", ".gitignore", "src/c.py"}),
    "delete": (lambda r: (r / "notes.txt").unlink(), {"src/a.py", "src/b.js", ".gitignore"}),
    "rename": (lambda r: (r / "notes.txt").rename(r / "renamed.txt"),
               {"src/a.py", "src/b.js", "renamed.txt", ".gitignore"}),
    "new folder": (lambda r: (r / "src" / "empty").mkdir(), None),
    "unignore": (lambda r: bump(r / ".gitignore", "*.log\n"),
                 {"src/a.py", "src/b.js", "notes.txt", ".gitignore", "build/out.py"}),
    "exclude": (lambda r: (r / ".git" / "info").mkdir(parents=True) or
                (r / ".git" / "info" / "exclude").write_text("notes.txt\n"),
                {"src/a.py", "src/b.js", ".gitignore"}),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_every_change_turns_the_fast_path_off(tree: Callable[..., Path], cli: Cli,
                                              name: str) -> None:
    root = tree(FILES)
    index_json(cli, root)
    before = paths(root)
    assert fast(index_json(cli, root))
    change, expected = CHANGES[name]
    change(root)
    after = index_json(cli, root)
    assert not fast(after), name
    assert paths(root) == (before if expected is None else expected), name
    if name in ("edit", "same size"):
        assert after["files"]["modified"] == after["files"]["parsed"] == 1
        symbols = {n for (n,) in db_rows(root, "SELECT name FROM symbols WHERE path = 'src/a.py'")}
        assert symbols == ({"alphA"} if name == "same size" else {"alpha"})
    if name == "unignore":  # the digest before the walk did not look inside build/: this
        assert not fast(index_json(cli, root))  # run takes one with the new pruning
    assert fast(index_json(cli, root)), f"{name}: the next run should be fast again"


def test_changes_inside_an_ignored_folder_keep_it_fast(tree: Callable[..., Path],
                                                       cli: Cli) -> None:
    root = tree(FILES)
    index_json(cli, root)
    index_json(cli, root)  # the second complete run knows build/ is pruned
    (root / "build" / "more.py").write_text("y = 2\n")
    bump(root / "build" / "out.py", "changed = True\n")
    assert fast(index_json(cli, root))
    assert "build/more.py" not in paths(root)


def test_a_symlink_target_change_is_seen(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"real.py": "def one():\n    pass\n"})
    (root / "link.py").symlink_to(root / "real.py")
    index_json(cli, root)
    assert fast(index_json(cli, root))
    bump(root / "real.py", "def two():\n    pass\n")
    assert not fast(index_json(cli, root))
    names = set(db_rows(root, "SELECT path, name FROM symbols"))
    assert names == {("real.py", "two"), ("link.py", "two")}


def test_other_options_or_no_native_module_walk(tree: Callable[..., Path], cli: Cli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(FILES)
    index_json(cli, root)
    assert not fast(index_json(cli, root, "--only", "python"))  # a recheck, not a no-op
    assert fast(index_json(cli, root, "--only", "python"))
    monkeypatch.setenv("CODELENS_NATIVE", "0")
    assert not fast(index_json(cli, root, "--only", "python"))


def test_a_run_that_could_not_read_a_folder_is_not_trusted(public_tmp: Path) -> None:
    root = public_tmp / "project"
    (root / "locked").mkdir(parents=True)
    (root / "ok.py").write_text("x = 1\n")
    (root / "locked" / "hidden.py").write_text("y = 2\n")
    (root / "locked").chmod(0)
    out = run_unprivileged(
        "import os, sys\n"
        "os.environ['CODELENS_NO_DAEMON'] = '1'\n"
        "from pathlib import Path\n"
        "from indexer import engine\n"
        "from indexer.settings import IndexOptions\n"
        f"root = Path({str(root)!r})\n"
        "options = IndexOptions(root=root, db_path=root / '.codelens' / 'index.db', jobs=1)\n"
        "runs = [engine.index(options) for _ in range(3)]\n"
        "print([(bool(r['walk']['problems']), r['walk']['tree_unchanged']) for r in runs])\n")
    assert out.strip() == "[(True, False), (True, False), (True, False)]"


def test_clearing_the_ast_cache_makes_the_next_run_parse_again(tree: Callable[..., Path],
                                                                cli: Cli) -> None:
    root = tree(FILES)
    index_json(cli, root)
    assert fast(index_json(cli, root))
    assert cli("cache", "clear", root, "--all").code == 0
    again = index_json(cli, root)
    assert not fast(again) and again["files"]["parsed"] == 2
    assert {"alpha", "beta"} <= {n for (n,) in db_rows(root, "SELECT name FROM symbols")}
