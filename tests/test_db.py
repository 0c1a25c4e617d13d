"""The database contract: migrations, version checks, and damaged or locked databases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from indexer.errors import DatabaseError
from indexer.store import migrate
from indexer.store.connection import open_db, writer_lock
from tests.conftest import (
    EVAL_RULE,
    REPO,
    CliResult,
    db_rows,
    index_json,
    run_codelens,
    unprivileged,
    write_tree,
)

Cli = Callable[..., CliResult]
CONTRACT = {
    "files": {"path", "language", "size", "mtime_ns", "sha256", "status", "generation"},
    "file_tokens": {"path", "token"},
    "symbols": {"path", "name", "kind", "start_line", "end_line"},
    "changes": {"generation", "path", "change"},
}


def test_contract_tables_and_views(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "x = 1\n"})
    index_json(cli, root)
    for name, columns in CONTRACT.items():
        found = {row[1] for row in db_rows(root, f"PRAGMA table_info({name})")}
        assert columns <= found, name


def test_corrupt_database_is_named_and_kept(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "x = 1\n"})
    db = root / ".codelens" / "index.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite" * 500)
    for args in (("index", root), ("query", "SELECT 1", "--root", root), ("status", root)):
        result = cli(*args)
        assert result.code == 2, args
        assert str(db) in result.err and "corrupt or not a SQLite database" in result.err
    assert db.read_bytes().startswith(b"this is not sqlite")  # never overwritten


def test_newer_schema_is_refused(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "x = 1\n"})
    index_json(cli, root)
    connection = apsw.Connection(str(root / ".codelens" / "index.db"))
    connection.execute(f"PRAGMA user_version = {migrate.SCHEMA_VERSION + 1}")
    connection.close()
    result = cli("index", root)
    assert result.code == 2 and "newer than this codelens knows" in result.err
    assert cli("query", "SELECT 1", "--root", root).code == 2


def test_migration_from_version_1(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    connection = apsw.Connection(str(db))  # a database as codelens 0.1 (schema 1) left it
    connection.execute((migrate.SCHEMA_DIR / "0001_init.sql").read_text())
    connection.execute("PRAGMA user_version = 1")
    connection.execute("INSERT INTO files (path, size, mtime_ns, inode, status, generation)"
                       " VALUES ('kept.py', 1, 1, 1, 'ok', 1)")
    connection.close()
    connection = open_db(db)
    assert connection.execute("PRAGMA user_version").fetchall() == [(migrate.SCHEMA_VERSION,)]
    assert connection.execute("SELECT path FROM files").fetchall() == [("kept.py",)]
    assert connection.execute("SELECT count(*) FROM findings").fetchall() == [(0,)]
    connection.close()


def test_failed_migration_rolls_back_with_its_version(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    shutil.copy(migrate.SCHEMA_DIR / "0001_init.sql", schema)
    (schema / "0002_broken.sql").write_text(
        "CREATE TABLE half_done (x);\nALTER TABLE no_such_table ADD COLUMN y;\n")
    monkeypatch.setattr(migrate, "SCHEMA_DIR", schema)
    monkeypatch.setattr(migrate, "SCHEMA_VERSION", 2)
    db = tmp_path / "index.db"
    with pytest.raises(DatabaseError, match="no such table"):
        open_db(db)
    connection = apsw.Connection(str(db))
    assert connection.execute("PRAGMA user_version").fetchall() == [(1,)]
    names = {n for (n,) in connection.execute("SELECT name FROM sqlite_schema")}
    assert "files" in names and "half_done" not in names
    connection.close()


def test_second_writer_is_told_who_holds_the_lock(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "x = 1\n"})
    db = root / ".codelens" / "index.db"
    with writer_lock(db):
        result = cli("index", root, "--lock-timeout", "0")
        waited = cli("index", root, "--lock-timeout", "0.2")
    assert result.code == 3 and "is being written by pid" in result.err
    assert waited.code == 3 and "(waited 0.2 s)" in waited.err
    assert waited.err.count("waiting for pid") == 1
    assert cli("index", root).code == 0  # released


HOLD_LOCK = ("import sys; from pathlib import Path; from indexer.store.connection import "
             "writer_lock\nwith writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)"
             "\n    sys.stdin.readline()\n")


def test_a_second_writer_waits_and_a_scan_of_a_current_index_need_not(
        tree: Callable[..., Path]) -> None:
    """While one process writes the index: a scan of a tree the index already describes
    runs at once without the lock; a scan or index with work to do says once that it waits,
    and goes on when the first lets go."""
    root = tree({"a.py": "eval(x)\n", "rules.yaml": EVAL_RULE})
    db = root / ".codelens" / "index.db"
    assert run_codelens("index", root).returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        current = run_codelens("scan", root, "--config", root / "rules.yaml", "--json",
                               "--lock-timeout", "0")
        assert current.returncode == 0, current.stderr
        assert len(json.loads(current.stdout)["results"]) == 1
        (root / "b.py").write_text("eval(y)\n")
        waiter = subprocess.Popen(
            [sys.executable, "-m", "indexer.cli", "scan", ".", "--config",
             str(root / "rules.yaml"), "--json", "--lock-timeout", "120"], cwd=root,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiter.stderr is not None
        assert "waiting for pid" in waiter.stderr.readline()  # it waits, and says so
        holder.communicate("go\n", timeout=60)
        out, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
        assert [r["path"] for r in json.loads(out)["results"]] == ["a.py", "b.py"]
    finally:
        holder.kill()
        holder.wait()


def test_status_and_cache(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"a.py": "def f(): pass\n", "b.py": "def g(): pass\n", "c.txt": "x"})
    index_json(cli, root)
    status = cli("status", root, "--json").json()
    assert status["files"] == 3 and status["by_language"] == {"python": 2, "(none)": 1}
    assert status["by_status"] == {"ok": 2, "no_grammar": 1} and status["generation"] == 1
    assert status["last_run"]["summary"]["files"]["added"] == 3 and status["db_bytes"] > 0
    text = cli("status", root)
    assert text.code == 0 and "generation 1" in text.out and "python 2" in text.out
    assert status["native_walker"].startswith("on (tree-sitter ")
    assert f"native walker: {status['native_walker']}" in text.out

    (root / "b.py").write_text("def h(): pass\n")  # the old AST is now unused
    index_json(cli, root)
    stats = cli("cache", "stats", root, "--json").json()
    assert stats["entries"] == 3 and stats["unreferenced"] == 1
    assert stats["last_run"] == {"hits": 0, "misses": 1, "hit_ratio": 0.0}
    assert cli("cache", "clear", root, "--json").json() == {"removed": 0}  # not 30 days old
    assert cli("cache", "clear", root, "--older-than", "0", "--json").json() == {"removed": 1}
    assert cli("cache", "clear", root, "--all", "--json").json() == {"removed": 2}
    assert db_rows(root, "SELECT count(*) FROM postings") == [(0,)]
    again = index_json(cli, root)
    assert again["files"]["parsed"] == 2  # the next run rebuilds what --all dropped
    assert db_rows(root, "SELECT count(*) FROM symbols") == [(2,)]


def test_pages_damaged_after_a_run_give_one_line_not_a_traceback(
        tree: Callable[..., Path]) -> None:
    """A database whose header is fine but whose pages are garbage: a command that reads
    them says which file is damaged and how to recover, and exits 2; the file stays."""
    files = {f"m{n}.py": f"def f{n}(value):\n    return eval(value + {n})\n" * 20
             for n in range(60)}
    root = tree({**files, "rules.yaml": EVAL_RULE})
    assert run_codelens("index", root).returncode == 0
    db = root / ".codelens" / "index.db"
    assert run_codelens("query", "PRAGMA wal_checkpoint(TRUNCATE)", "--root", root,
                        ).returncode in (0, 2)
    connection = apsw.Connection(str(db))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for at in range(len(data) // 2 // page * page, len(data), page):  # the second half
        data[at:at + page] = bytes([0xA5]) * page
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    for args in (("scan", root, "--config", root / "rules.yaml"), ("cache", "stats", root)):
        result = run_codelens(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr, args
        assert str(db) in result.stderr and "damaged" in result.stderr, (args, result.stderr)
    assert db.read_bytes()[:16] == before[:16]  # never replaced behind the user's back
    nothing_changed = run_codelens("index", root)  # a no-op may read no damaged page
    assert nothing_changed.returncode in (0, 2) and "Traceback" not in nothing_changed.stderr
    debug = run_codelens("--debug", "cache", "stats", root)
    assert "Traceback" in debug.stderr and debug.returncode == 1


def test_a_read_only_database_file_is_named_in_one_line(public_tmp: Path) -> None:
    root = write_tree(public_tmp / "project", {"a.py": "x = 1\n"})
    assert run_codelens("index", root).returncode == 0
    db = root / ".codelens" / "index.db"
    (root / "b.py").write_text("y = 2\n")
    db.chmod(0o444)
    before = db.read_bytes()
    result = subprocess.run(unprivileged([sys.executable, "-m", "indexer.cli", "index",
                                          str(root)]),
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot write {db}" in result.stderr and "permissions" in result.stderr
    assert db.read_bytes() == before
    reads = subprocess.run(unprivileged([sys.executable, "-m", "indexer.cli", "query",
                                         "SELECT path FROM files", "--root", str(root)]),
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert reads.returncode == 0 and "a.py" in reads.stdout  # readers still read


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For a child process: files may not grow past ``limit`` bytes (a write past it fails
    as on a full disk, SIGXFSZ ignored so that the write returns an error instead)."""
    import resource
    import signal

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_disk_that_fills_during_a_run_gives_one_line_and_keeps_the_index(
        tree: Callable[..., Path], cli: Cli) -> None:
    """A write the disk refuses mid-run: one line naming the database and the fix, exit 2,
    and every row committed before stays (the failed run's batch rolls back)."""
    root = tree({f"src/m{n}.py": f"def f{n}():\n    return {n}\n" for n in range(20)})
    db = root / ".codelens" / "index.db"
    index_json(cli, root)
    before = db_rows(root, "SELECT path, sha256 FROM files ORDER BY path")
    write_tree(root, {f"more/n{n}.py": "".join(f"def g{n}_{k}(): return '{'x' * 60}'\n"
                                               for k in range(200)) for n in range(60)})
    limit = db.stat().st_size + 64 * 1024
    failed = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(root)],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            preexec_fn=_file_size_limit(limit))
    assert failed.returncode == 2, failed.stderr
    (line, hint) = failed.stderr.strip().splitlines()
    assert str(db) in line and "disk is full" in line and "Traceback" not in failed.stderr
    assert "free some space" in hint
    assert db_rows(root, "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(root, "SELECT path, sha256 FROM files ORDER BY path") == before
    assert index_json(cli, root)["files"]["added"] == 60  # with room again, all goes in


def test_a_root_the_user_cannot_write_is_indexed_into_the_user_cache(public_tmp: Path) -> None:
    """No .codelens/ can be made in a read-only tree: the index goes to
    $XDG_CACHE_HOME/codelens/<hash of the root>/, status says so, and scans work."""
    root = write_tree(public_tmp / "project", {"a.py": "eval(x)\n", "rules.yaml": EVAL_RULE})
    cache = public_tmp / "cache"
    cache.mkdir()
    root.chmod(0o555)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "CODELENS_NO_DAEMON": "1"}

    def codelens(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(unprivileged([sys.executable, "-m", "indexer.cli", *args]),
                              cwd=REPO, capture_output=True, text=True, timeout=120, env=env)

    indexed = codelens("index", str(root), "--json")
    assert indexed.returncode == 0, indexed.stderr
    (db,) = cache.glob("codelens/*/index.db")
    assert not (root / ".codelens").exists()
    status = codelens("status", str(root))
    assert status.returncode == 0 and str(db) in status.stdout
    assert "cannot be written" in status.stdout
    assert json.loads(codelens("status", str(root), "--json").stdout)["db"] == str(db)
    found = codelens("scan", str(root), "--root", str(root), "--config",
                     str(root / "rules.yaml"), "--json")
    assert found.returncode == 0, found.stderr
    assert [r["check_id"] for r in json.loads(found.stdout)["results"]] == ["no-eval"]
    rows = codelens("query", "SELECT path FROM files ORDER BY path", "--root", str(root))
    assert "a.py" in rows.stdout
