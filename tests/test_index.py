"""codelens index end to end: real files, real SQLite, real worker processes."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from indexer import engine
from indexer.settings import IndexOptions
from tests.conftest import CliResult, db_rows, index_json, run_codelens, unprivileged

Cli = Callable[..., CliResult]
PY = ("import os\n\ndef alpha(x):\n    return os.path.join(x, 'beta_word')\n\n"
      "class Gamma:\n    pass\n")
JS = "function delta(a) { return a + 1; }\nclass Epsilon {}\n"


def test_cold_index_records_every_file(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": PY, "web/b.js": JS, "README.txt": "hello\n", "data.bin": b"\0\1\2"})
    summary = index_json(cli, root)
    assert summary["files"] == {"seen": 4, "unchanged": 0, "added": 4, "modified": 0,
                                "deleted": 0, "parsed": 2, "failed": 0, "skipped": 2}
    assert summary["cache"] == {"hits": 0, "misses": 2}
    assert summary["generation"] == 1 and summary["root"] == str(root)
    rows = {r[0]: r[1:] for r in db_rows(root, "SELECT path, language, status, size, sha256,"
                                               " generation FROM files")}
    assert rows["a.py"][:3] == ("python", "ok", len(PY))
    assert rows["web/b.js"][:2] == ("javascript", "ok")
    assert rows["README.txt"][:2] == (None, "no_grammar")
    assert rows["data.bin"][:2] == (None, "binary")
    import hashlib
    assert rows["a.py"][3] == hashlib.sha256(PY.encode()).hexdigest()
    symbols = set(db_rows(root, "SELECT path, name, kind, start_line, end_line FROM symbols"))
    assert {("a.py", "alpha", "function", 3, 4), ("a.py", "Gamma", "class", 6, 7),
            ("web/b.js", "delta", "function", 1, 1), ("web/b.js", "Epsilon", "class", 2, 2)
            } <= symbols
    tokens = {t for (t,) in db_rows(root, "SELECT token FROM file_tokens WHERE path = 'a.py'")}
    assert {"import", "os", "alpha", "return", "path", "join", "beta_word", "Gamma"} <= tokens
    assert db_rows(root, "PRAGMA journal_mode") == [("wal",)]
    assert db_rows(root, "PRAGMA user_version")[0][0] >= 1


def test_no_op_touch_edit_rename_delete(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": PY, "b.py": "def keep(): pass\n", "c.py": "def gone(): pass\n"})
    index_json(cli, root)

    noop = index_json(cli, root)
    assert noop["files"]["unchanged"] == 3 and noop["generation"] == 1
    assert noop["files"]["parsed"] == 0

    os.utime(root / "b.py", ns=(time.time_ns(), time.time_ns() + 10**9))
    touched = index_json(cli, root)
    assert touched["files"]["unchanged"] == 3 and touched["files"]["modified"] == 0
    assert touched["generation"] == 1  # nothing changed, so no new generation
    stamp = os.stat(root / "b.py")
    assert db_rows(root, "SELECT mtime_ns FROM files WHERE path = 'b.py'") == [
        (stamp.st_mtime_ns,)]  # back on the stat fast path

    (root / "a.py").write_text(PY.replace("beta_word", "zeta_word").replace("alpha", "omega"))
    edited = index_json(cli, root)
    assert (edited["files"]["modified"], edited["files"]["parsed"]) == (1, 1)
    tokens = {t for (t,) in db_rows(root, "SELECT token FROM file_tokens WHERE path = 'a.py'")}
    assert "zeta_word" in tokens and "beta_word" not in tokens
    names = {n for (n,) in db_rows(root, "SELECT name FROM symbols WHERE path = 'a.py'")}
    assert "omega" in names and "alpha" not in names

    (root / "b.py").rename(root / "renamed.py")
    renamed = index_json(cli, root)
    assert renamed["files"]["added"] == 1 and renamed["files"]["deleted"] == 1
    assert renamed["files"]["parsed"] == 0 and renamed["cache"]["hits"] == 1

    (root / "c.py").unlink()
    deleted = index_json(cli, root)
    assert deleted["files"]["deleted"] == 1
    assert db_rows(root, "SELECT count(*) FROM file_tokens WHERE path = 'c.py'") == [(0,)]
    assert db_rows(root, "SELECT count(*) FROM symbols WHERE path = 'c.py'") == [(0,)]
    changes = db_rows(root, "SELECT generation, path, change FROM changes WHERE generation > 1"
                            " ORDER BY generation, path")
    g = edited["generation"]
    assert changes == [(g, "a.py", "modified"), (g + 1, "b.py", "deleted"),
                       (g + 1, "renamed.py", "added"), (g + 2, "c.py", "deleted")]
    # postings hold exactly what the files hold: nothing stale left behind
    assert db_rows(root, "SELECT count(*) FROM postings WHERE file_id NOT IN"
                         " (SELECT id FROM files)") == [(0,)]


def test_only_restricts_parsing_and_a_later_run_catches_up(tree: Callable[..., Path],
                                                           cli: Cli) -> None:
    root = tree({"a.py": PY, "b.js": JS, "c.go": "package main\nfunc main() {}\n"})
    first = index_json(cli, root, "--only", "python,go")
    assert first["files"]["parsed"] == 2 and first["files"]["skipped"] == 1
    assert db_rows(root, "SELECT status FROM files WHERE path = 'b.js'") == [("excluded",)]
    second = index_json(cli, root)
    assert second["files"]["parsed"] == 1
    assert db_rows(root, "SELECT status FROM files WHERE path = 'b.js'") == [("ok",)]
    bad = cli("index", root, "--only", "python,klingon")
    assert bad.code == 2 and "klingon" in bad.err


def test_no_cache_reparses_known_content(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": PY})
    index_json(cli, root)
    (root / "a.py").rename(root / "b.py")
    summary = index_json(cli, root, "--no-cache")
    assert summary["files"]["parsed"] == 1 and summary["cache"]["hits"] == 0


def test_identical_files_are_parsed_once(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({f"pkg{i}/__init__.py": PY for i in range(6)})
    summary = index_json(cli, root, "--jobs", "1")
    assert summary["files"]["parsed"] == 1 and summary["cache"]["hits"] == 5
    assert db_rows(root, "SELECT count(DISTINCT ast_id), count(*) FROM files") == [(1, 6)]
    assert db_rows(root, "SELECT count(*) FROM symbols WHERE name = 'alpha'") == [(6,)]


def test_max_file_size(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"big.py": "x = 1\n" * 1000, "small.py": "y = 2\n"})
    summary = index_json(cli, root, "--max-file-size", "1000")
    assert summary["files"]["skipped"] == 1
    status, error, sha = db_rows(root, "SELECT status, error, sha256 FROM files"
                                       " WHERE path = 'big.py'")[0]
    assert status == "too_large" and "1000" in error and len(sha) == 64
    later = index_json(cli, root)
    assert later["files"]["parsed"] == 1
    assert db_rows(root, "SELECT status FROM files WHERE path = 'big.py'") == [("ok",)]


def test_bad_content_is_recorded_never_fatal(tree: Callable[..., Path], cli: Cli) -> None:
    depth = 100_000
    root = tree({
        "nul.py": b"x = 1\n\0\0binary",
        "latin1.py": "name = 'caf\xe9'\n".encode("latin-1"),
        "broken.py": "def f(:\n    pass\n",
        "deep.py": "x = " + "(" * depth + "1" + ")" * depth + "\n",
        "empty.py": "",
    })
    summary = index_json(cli, root)
    assert summary["files"]["failed"] == 0
    status = dict(db_rows(root, "SELECT path, status FROM files"))
    assert status == {"nul.py": "binary", "latin1.py": "ok", "broken.py": "syntax_error",
                      "deep.py": "ok", "empty.py": "ok"}
    assert db_rows(root, "SELECT error FROM files WHERE path = 'broken.py'")[0][0].endswith(
        "at line 1")
    nodes = db_rows(root, "SELECT a.node_count FROM files f JOIN asts a ON a.id = f.ast_id"
                          " WHERE f.path = 'deep.py'")[0][0]
    assert nodes > depth


def test_unreadable_file_is_a_failure_row(public_tmp: Path) -> None:
    root = public_tmp / "project"
    root.mkdir()
    (root / "ok.py").write_text(PY)
    (root / "secret.py").write_text(PY)
    (root / "secret.py").chmod(0)
    import subprocess
    import sys

    from tests.conftest import REPO
    result = subprocess.run(unprivileged([sys.executable, "-m", "indexer.cli", "index",
                                          str(root), "--json"]),
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    (root / "secret.py").chmod(0o644)
    rows = dict((p, (s, e)) for p, s, e in db_rows(root, "SELECT path, status, error FROM files"))
    assert rows["ok.py"] == ("ok", None)
    assert rows["secret.py"] == ("failed", "cannot read: Permission denied")


def test_file_vanishing_between_walk_and_read(tree: Callable[..., Path]) -> None:
    root = tree({"a.py": PY, "z_vanishes.py": PY + "\n# other\n"})
    db = root / ".codelens" / "index.db"

    def delete_the_next_file(done: int, total: int) -> None:
        (root / "z_vanishes.py").unlink(missing_ok=True)

    summary = engine.index(IndexOptions(root=root, db_path=db, jobs=1), delete_the_next_file)
    assert summary["files"]["seen"] == 1 and summary["files"]["added"] == 1
    assert [p for (p,) in db_rows(root, "SELECT path FROM files")] == ["a.py"]


def test_grammar_upgrade_reparses_exactly_its_files(tree: Callable[..., Path],
                                                    cli: Cli) -> None:
    root = tree({"a.py": PY, "b.js": JS})
    index_json(cli, root)
    import apsw
    connection = apsw.Connection(str(root / ".codelens" / "index.db"))
    connection.execute("UPDATE asts SET parser_version = 'tree-sitter-python==0.0.1'"
                       " WHERE language = 'python'")
    connection.execute("UPDATE runs SET options_hash = 'from-an-older-install'")
    connection.close()
    summary = index_json(cli, root)
    assert summary["files"]["parsed"] == 1 and summary["files"]["modified"] == 1
    assert index_json(cli, root)["files"]["parsed"] == 0


def test_pool_and_in_process_store_the_same_index(tree: Callable[..., Path], cli: Cli,
                                                  tmp_path: Path) -> None:
    files = {f"m{i}.py": PY.replace("alpha", f"alpha{i}") for i in range(40)}
    files.update({f"w{i}.js": JS.replace("delta", f"delta{i}") for i in range(20)})
    root = tree(files)
    snapshot = ("SELECT f.path, f.sha256, f.status, a.blob,"
                " (SELECT group_concat(token) FROM (SELECT token FROM file_tokens t"
                "   WHERE t.path = f.path ORDER BY token)),"
                " (SELECT group_concat(name) FROM (SELECT name FROM symbols s"
                "   WHERE s.path = f.path ORDER BY name))"
                " FROM files f LEFT JOIN asts a ON a.id = f.ast_id ORDER BY f.path")
    pooled = index_json(cli, root, "--jobs", "2")
    assert pooled["pool"]["workers"] == 2
    first = db_rows(root, snapshot)
    single = index_json(cli, root, "--jobs", "1", "--db", tmp_path / "single.db")
    assert single["pool"]["workers"] == 0
    import apsw
    other = apsw.Connection(str(tmp_path / "single.db"))
    assert list(other.execute(snapshot)) == first
    other.close()


def test_db_location_flag_and_environment(tree: Callable[..., Path], tmp_path: Path) -> None:
    root = tree({"a.py": PY})
    env_db = tmp_path / "elsewhere" / "env.db"
    result = run_codelens("index", root, "--quiet", env={"CODELENS_DB": str(env_db)})
    assert result.returncode == 0 and result.stdout == "" and env_db.exists()
    assert not (root / ".codelens" / "index.db").exists()
    flag_db = tmp_path / "flag.db"
    result = run_codelens("index", root, "--db", flag_db, "--json",
                          env={"CODELENS_DB": str(env_db)})
    assert result.returncode == 0 and flag_db.exists()


def test_text_summary_and_missing_root(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": PY})
    result = cli("index", root)
    assert result.code == 0 and "1 files seen: 1 added" in result.out
    missing = cli("index", root / "nope")
    assert missing.code == 2 and "is not a directory" in missing.err


def test_progress_bar_on_a_terminal_only(tree: Callable[..., Path], tmp_path: Path) -> None:
    import pty
    import subprocess
    import sys

    from tests.conftest import REPO
    root = tree({f"m{i}.py": f"x = {i}\n" for i in range(30)})
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(root),
                                "--jobs", "1"], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=follower, env={**os.environ, "COLUMNS": "100"})
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0
    assert b"files/s" in shown and b"indexing" in shown  # the bar, on the terminal
    assert b"files/s" not in out and b"30 files seen" in out  # the summary, on stdout
    quiet = run_codelens("index", root, "--json")  # stderr not a terminal: no bar
    assert "files/s" not in quiet.stderr


def test_a_large_run_finds_stored_asts_from_its_preloaded_keys(tree: Callable[..., Path],
                                                               cli: Cli) -> None:
    contents = [f"def f{n}():\n    return {n}\n" for n in range(10)]
    root = tree({f"a/{n}.py": contents[n % 10] for n in range(200)})
    assert index_json(cli, root, "--jobs", "1")["files"]["parsed"] == 10
    for n in range(engine.PRELOAD_ASTS_AT):  # enough new files for this run to preload
        (root / "b").mkdir(exist_ok=True)
        (root / "b" / f"{n}.py").write_text(contents[n % 10] if n % 2 else f"x = {n}\n")
    summary = index_json(cli, root, "--jobs", "1")
    assert summary["files"]["added"] == engine.PRELOAD_ASTS_AT
    assert summary["files"]["parsed"] == engine.PRELOAD_ASTS_AT // 2  # the x = n files
    assert summary["cache"]["hits"] == engine.PRELOAD_ASTS_AT // 2
    rows = db_rows(root, "SELECT count(*), count(DISTINCT ast_id) FROM files WHERE path LIKE 'b/%'"
                         " AND ast_id IS NOT NULL")
    assert rows == [(engine.PRELOAD_ASTS_AT, engine.PRELOAD_ASTS_AT // 2 + 5)]  # odd n: 5 kinds


def test_the_index_folder_stays_out_of_git_status(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "x = 1\n"})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    index_json(cli, root)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=root, capture_output=True, text=True, check=True).stdout
    assert status.splitlines() == ["?? a.py"]
    assert (root / ".codelens" / ".gitignore").read_text().splitlines()[-1] == "*"
