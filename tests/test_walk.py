"""What the walk covers: real .gitignore semantics, links, and folders it cannot read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from indexer.walk import WalkReport, walk, walk_paths
from tests.conftest import db_rows, run_codelens, run_unprivileged, write_tree


def paths(root: Path, report: WalkReport | None = None) -> set[str]:
    return {w.path for w in walk(root, report)}


def test_gitignore_nested_negation_and_directories(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".gitignore": "*.log\n!keep.log\nbuild/\n/top_only.py\n",
        "a.py": "", "debug.log": "", "keep.log": "", "top_only.py": "",
        "build/out.py": "", "src/build/also.py": "", "src/top_only.py": "",
        "src/.gitignore": "generated_*.py\n!generated_keep.py\n",
        "src/generated_x.py": "", "src/generated_keep.py": "", "src/ok.py": "",
        "src/deep/.gitignore": "!*.log\n", "src/deep/trace.log": "",
    })
    assert paths(tmp_path) == {
        ".gitignore", "a.py", "keep.log", "src/.gitignore", "src/top_only.py",
        "src/generated_keep.py", "src/ok.py", "src/deep/.gitignore", "src/deep/trace.log"}


def test_git_info_exclude_and_codelensignore(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".git/info/exclude": "secret.py\n", ".git/config": "", "secret.py": "",
        ".codelensignore": "vendor/\n", "vendor/lib.py": "", "main.py": "",
        ".codelens/index.db": "", "sub/.git/HEAD": "", "sub/x.py": "",
    })
    assert paths(tmp_path) == {".codelensignore", "main.py", "sub/x.py"}


def test_symlinks_escape_loop_and_inside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = write_tree(tmp_path / "root", {"real.py": "x = 1\n", "pkg/mod.py": ""})
    write_tree(outside, {"secret.py": "password = 1\n"})
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "pkg" / "loop").symlink_to(root, target_is_directory=True)
    (root / "alias.py").symlink_to(root / "real.py")
    (root / "dangling.py").symlink_to(root / "missing.py")
    report = WalkReport()
    assert paths(root, report) == {"real.py", "pkg/mod.py", "alias.py"}
    assert report.links_skipped == 3  # escape.py, and the two links to directories
    assert report.problems == []


def test_unreadable_directory_is_reported_not_fatal(public_tmp: Path) -> None:
    write_tree(public_tmp, {"ok.py": "", "locked/hidden.py": ""})
    (public_tmp / "locked").chmod(0)
    code = ("from pathlib import Path; from indexer.walk import walk, WalkReport; r = WalkReport();"
            f" print(sorted(w.path for w in walk(Path({str(public_tmp)!r}), r)), r.problems)")
    out = run_unprivileged(code)
    assert out.strip() == "['ok.py'] [('locked', 'cannot list: Permission denied')]"


def test_special_files_are_not_indexed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": ""})
    os.mkfifo(tmp_path / "pipe.py")
    assert paths(tmp_path) == {"a.py"}


def test_names_that_are_not_utf8_are_reported_and_the_rest_indexed(
        tmp_path: Path) -> None:
    """A file (or folder) whose name is not valid UTF-8 cannot be a path in the database:
    it is reported by its escaped name, and everything else is indexed as usual."""
    root = write_tree(tmp_path / "project", {"good.py": "x = 1\n", "pkg/ok.py": "y = 2\n"})
    os.makedirs(os.path.join(bytes(root), b"dir\xfe"))
    for name in (b"bad\xffname.py", b"dir\xfe/inner.py", b"pkg/also\xff.py"):
        with open(os.path.join(bytes(root), name), "wb") as handle:
            handle.write(b"z = 3\n")
    report = WalkReport()
    assert paths(root, report) == {"good.py", "pkg/ok.py"}
    assert sorted(report.problems) == [
        ("bad\\xffname.py", "not indexed: its name is not valid UTF-8"),
        ("dir\\xfe", "not indexed: its name is not valid UTF-8"),
        ("pkg/also\\xff.py", "not indexed: its name is not valid UTF-8")]
    for _ in range(2):  # the second time with nothing changed
        result = run_codelens("index", root, "--json")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        problems = json.loads(result.stdout)["walk"]["problems"]
        assert {p["path"] for p in problems} >= {"bad\\xffname.py", "pkg/also\\xff.py"}
    assert db_rows(root, "SELECT path FROM files ORDER BY path") == [("good.py",), ("pkg/ok.py",)]


def test_a_folder_that_becomes_unreadable_keeps_its_rows(public_tmp: Path) -> None:
    """Its files were not deleted: the walk could not look. They keep their rows, no deletion
    is recorded, and the folder is reported."""
    root = write_tree(public_tmp / "project", {"ok.py": "x = 1\n", "locked/hidden.py": "y = 2\n",
                                                "locked/deep/more.py": "z = 3\n"})
    index = ("import json, sys; from pathlib import Path; from indexer import engine; "
             "from indexer.settings import IndexOptions; "
             f"root = Path({str(root)!r}); "
             "s = engine.index(IndexOptions(root=root, db_path=root / '.codelens' / 'index.db', "
             "jobs=1)); print(json.dumps([s['files']['deleted'], s['walk']['problems']]))")
    assert json.loads(run_unprivileged(index)) == [0, []]
    (root / "locked").chmod(0)
    deleted, problems = json.loads(run_unprivileged(index))
    assert deleted == 0 and problems == [{"path": "locked", "error": "cannot list: Permission "
                                                                      "denied"}]
    (root / "locked").chmod(0o755)
    assert db_rows(root, "SELECT path FROM files ORDER BY path") == [
        ("locked/deep/more.py",), ("locked/hidden.py",), ("ok.py",)]
    assert db_rows(root, "SELECT count(*) FROM changes WHERE change = 'deleted'") == [(0,)]


def test_walk_paths_finds_what_walk_finds_one_listing_per_folder(tmp_path: Path) -> None:
    files = {f"big/f{n}.py": "" for n in range(300)}
    root = write_tree(tmp_path / "project", {
        **files, ".gitignore": "big/f1*.py\n!big/f10.py\n", "src/a.py": "", "src/sub/b.py": "",
        "src/ignored.py": "", "src/.gitignore": "ignored.py\n"})
    (root / "src" / "link.py").symlink_to(root / "src" / "a.py")
    everything = paths(root)
    asked = {*files, "src", "src/link.py", "src/ignored.py", "missing.py", "big/f10.py"}
    found = {w.path for w in walk_paths(root, asked)}
    assert found == everything - {".gitignore"}  # (not asked for)
    assert "big/f10.py" in found and "big/f11.py" not in found and "src/ignored.py" not in found
