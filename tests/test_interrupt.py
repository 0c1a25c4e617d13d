"""Interrupted runs keep every committed batch; readers never see an error while we write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import apsw
import pytest

from tests.conftest import REPO, write_tree

FILES = 3000


def many_files(root: Path, count: int = FILES) -> Path:
    return write_tree(root, {f"pkg{i // 100}/m{i}.py": f"def f{i}(x):\n    return x + {i}\n"
                             for i in range(count)})


def start_index(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(root), "--json",
                             *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def committed_files(db: Path) -> int:
    try:
        connection = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            return int(connection.execute("SELECT count(*) FROM files").fetchall()[0][0])
        finally:
            connection.close()
    except apsw.Error:
        return 0


def wait_for_commit(db: Path, process: subprocess.Popen[str], at_least: int = 1) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        count = committed_files(db)
        if count >= at_least:
            return count
        time.sleep(0.02)
    stderr = process.stderr.read() if process.stderr else ""
    pytest.fail(f"no batch committed (exit {process.poll()}): {stderr}")


def workers_tagged(tag: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if f"CODELENS_TEST_TAG={tag}".encode() in handle.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_kill_9_mid_run_then_a_clean_rerun(tmp_path: Path) -> None:
    root = many_files(tmp_path / "project")
    db = root / ".codelens" / "index.db"
    tag = uuid.uuid4().hex
    process = start_index(root, "--jobs", "2", env={"CODELENS_TEST_TAG": tag})
    kept = wait_for_commit(db, process)
    process.kill()
    process.communicate()
    deadline = time.monotonic() + 10  # orphaned workers see their pipe close and exit
    while workers_tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers_tagged(tag) == []
    before = committed_files(db)
    assert before >= kept  # nothing committed was lost
    rerun = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(root), "--json"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["files"]["added"] == FILES - before
    connection = apsw.Connection(str(db))
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert connection.execute("SELECT count(*) FROM files").fetchall()[0][0] == FILES
    assert connection.execute("SELECT count(*) FROM symbols").fetchall()[0][0] == FILES
    connection.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_commits_what_is_done_and_exits_130(tmp_path: Path, sig: int) -> None:
    """The run stops between files, after committing everything it parsed (never inside a
    commit). A parse that hangs after 2,100 files (past the first commit, of 2,000) holds it
    there until the signal, so the run is surely still going when the signal lands."""
    root = many_files(tmp_path / "project")
    db = root / ".codelens" / "index.db"
    process = start_index(root, "--jobs", "1",
                          env={"CODELENS_TEST_FAULT": "hang-after:2100"})
    wait_for_commit(db, process)
    assert process.poll() is None  # held by the hanging file
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted:" in err and "run `codelens index` again" in err
    summary_done = int(err.split("interrupted: ")[1].split(" of ")[0])
    done = committed_files(db)
    assert 0 < done < FILES and done == summary_done  # what it said it kept, it kept
    assert not (db.parent / "index.db.parsing").exists()  # a graceful stop is no crash
    rerun = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(root), "--json"],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
    assert json.loads(rerun.stdout)["files"]["added"] == FILES - done


READER = """
import sys, time
from pathlib import Path
from indexer.store.connection import open_db
db, stop = Path(sys.argv[1]), Path(sys.argv[2])
queries = errors = 0
while not stop.exists():
    try:
        c = open_db(db, readonly=True)
        c.execute("SELECT count(*) FROM files").fetchall()
        c.execute("SELECT path, name FROM symbols ORDER BY name LIMIT 20").fetchall()
        c.execute("SELECT count(*) FROM file_tokens WHERE token = 'return'").fetchall()
        c.execute("SELECT max(generation) FROM changes").fetchall()
        c.close()
        queries += 1
    except Exception as exc:
        errors += 1
        print(repr(exc), file=sys.stderr)
print(queries, errors)
"""


def test_eight_readers_during_an_index_see_no_error(tmp_path: Path) -> None:
    root = many_files(tmp_path / "project", 10)
    db = root / ".codelens" / "index.db"
    assert subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(root), "--quiet"],
                          cwd=REPO, timeout=120).returncode == 0
    many_files(root)
    stop = tmp_path / "stop"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(8)]
    try:
        indexer = start_index(root, "--jobs", "2")
        summary, indexer_err = indexer.communicate(timeout=300)
        assert indexer.returncode == 0, indexer_err
    finally:
        stop.touch()
        results = [reader.communicate(timeout=60) for reader in readers]
    assert json.loads(summary)["files"]["added"] == FILES - 10
    for out, err in results:
        queries, errors = map(int, out.split())
        assert errors == 0, err
        assert queries > 0
