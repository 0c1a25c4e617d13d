"""The per-project daemon: a real detached process, a real Unix socket, real clients."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.errors import CodelensError
from indexer.service import client, protocol
from tests.conftest import EVAL_RULE, REPO, CliResult, wait_until, write_tree

Cli = Callable[..., CliResult]
RULE = EVAL_RULE


@pytest.fixture(autouse=True)
def each_test_private(private_homes: Path) -> Path:
    """Every test here gets its own registry and socket folder (conftest.private_homes)."""
    return private_homes


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project", {"src/a.py": "def alpha():\n    return eval(x)\n",
                                             "rules.yaml": RULE})


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "Z"


def raw(socket_path: str, payload: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(socket_path)
        conn.sendall(payload)
        return json.loads(conn.makefile("rb").readline())


def test_start_status_list_stop_and_modes(project: Path, cli: Cli,
                                          private_homes: Path) -> None:
    entry = client.start(project)
    assert client.start(project)["pid"] == entry["pid"]  # one per root
    folder = Path(entry["socket"]).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(entry["socket"]).stat().st_mode) == 0o600
    registry = private_homes / "home" / ".codelens" / "daemons"
    assert [json.loads(p.read_text())["pid"] for p in registry.glob("*.json")] == [entry["pid"]]
    assert stat.S_IMODE(registry.stat().st_mode) == 0o700  # entries name roots and sockets
    assert {stat.S_IMODE(p.stat().st_mode) for p in registry.iterdir()} == {0o600}
    status = cli("daemon", "status", project, "--json")
    assert status.code == 0 and status.json()["pid"] == entry["pid"]
    listed = cli("daemon", "list", "--json").json()
    assert [e["root"] for e in listed] == [str(project.resolve())]
    assert cli("daemon", "stop", project).out.strip() == "stopped"
    wait_until(lambda: gone(entry["pid"]))
    assert not Path(entry["socket"]).exists() and not list(registry.glob("*.json"))
    assert cli("daemon", "status", project).code == 1


def test_a_registry_folder_left_open_is_made_private(private_homes: Path) -> None:
    folder = private_homes / "home" / ".codelens" / "daemons"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    stale = folder / "x.tmp"
    stale.write_text("old")
    stale.chmod(0o644)
    assert protocol.registry_dir() == folder and stat.S_IMODE(folder.stat().st_mode) == 0o700
    protocol.write_private(folder / "x.json", "{}")
    assert stat.S_IMODE((folder / "x.json").stat().st_mode) == 0o600


def test_cli_commands_go_through_the_daemon(project: Path, cli: Cli) -> None:
    entry = client.start(project)
    wait_until(lambda: client.call(project, "query", {"sql": "SELECT count(*) FROM files"})
               ["rows"] == [[2]])
    before = client.call(project, "ping")["requests"]
    scan = cli("scan", project / "src", "--config", project / "rules.yaml", "--json")
    assert [(r["check_id"], r["path"]) for r in scan.json()["results"]] == [
        ("no-eval", str(project / "src" / "a.py"))]  # as typed: absolute
    with contextlib.chdir(project / "src"):
        typed = cli("scan", ".", "--config", project / "rules.yaml", "--json")
    assert [r["path"] for r in typed.json()["results"]] == ["a.py"]
    assert cli("status", project, "--json").json()["files"] == 2
    assert client.call(project, "ping")["requests"] == before + 3  # served by the daemon
    # a query reads the database itself (streamed, and stopped at once by Ctrl-C)
    query = cli("query", "SELECT name FROM symbols", "--root", project, "--json")
    assert query.json() == [{"name": "alpha"}]
    assert client.call(project, "ping")["requests"] == before + 3
    os.environ["CODELENS_NO_DAEMON"] = "1"
    try:
        alone = cli("status", project, "--json")
        assert alone.json()["files"] == 2
        assert client.call(project, "ping")["requests"] == before + 3  # not served by it
    finally:
        del os.environ["CODELENS_NO_DAEMON"]
    endless = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(*) FROM c")
    with pytest.raises(CodelensError, match=r"stopped after 0.3 s"):
        client.call(project, "query", {"sql": endless, "timeout": 0.3})
    assert entry["pid"] == client.running(project)["pid"]


def test_thirty_two_clients_and_a_garbage_request(project: Path) -> None:
    entry = client.start(project)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                reply = client.call(project, "query", {"sql": "SELECT count(*) FROM files"})
                assert reply["columns"] == ["count(*)"]
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    garbage = raw(entry["socket"], b"this is not json\n")
    assert garbage["error"]["code"] == protocol.PARSE_ERROR
    wrong = raw(entry["socket"], protocol.request("frobnicate"))
    assert wrong["error"]["code"] == protocol.METHOD_NOT_FOUND
    bad_sql = raw(entry["socket"], protocol.request("query", {"sql": "SELEC"}))
    assert bad_sql["error"]["code"] == protocol.CODELENS_ERROR
    assert bad_sql["error"]["data"]["exit_code"] == 2
    assert client.call(project, "ping")["pid"] == entry["pid"]  # it carried on


def test_kill_9_leaves_leftovers_the_next_start_cleans(project: Path, cli: Cli) -> None:
    entry = client.start(project)
    os.kill(entry["pid"], signal.SIGKILL)
    wait_until(lambda: gone(entry["pid"]))
    assert Path(entry["socket"]).exists()  # stale, as a crash leaves it
    assert cli("daemon", "status", project).code == 1  # not served
    fresh = client.start(project)
    assert fresh["pid"] != entry["pid"]
    assert client.call(project, "ping")["pid"] == fresh["pid"]


def test_exits_when_its_parent_process_exits(project: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        entry = client.start(project, ppid=parent.pid)
        parent.kill()
        parent.wait()
        wait_until(lambda: gone(entry["pid"]), timeout=15)
        assert not Path(entry["socket"]).exists()
    finally:
        parent.kill()
        parent.wait()


def test_idle_timeout(project: Path) -> None:
    entry = client.start(project, idle_timeout=1.5)
    wait_until(lambda: gone(entry["pid"]), timeout=15)
    assert client.running(project) is None


def test_socket_removed_stops_the_daemon(project: Path) -> None:
    entry = client.start(project)
    Path(entry["socket"]).unlink()
    wait_until(lambda: gone(entry["pid"]), timeout=15)


def test_wedged_daemon_is_killed_by_the_liveness_watchdog(project: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODELENS_LIVENESS_TIMEOUT", "2")
    monkeypatch.setenv("CODELENS_TEST_FAULT", "wedge")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    daemon = subprocess.Popen([sys.executable, "-m", "indexer.service.daemon", "--root",
                               str(project)], env=env, stderr=subprocess.PIPE)
    socket_path = protocol.socket_path(project)
    wait_until(socket_path.exists, timeout=15)
    assert daemon.wait(timeout=30) == -signal.SIGKILL
    wait_until(lambda: not socket_path.exists(), timeout=10)
    assert b"has not heartbeaten" in daemon.stderr.read()
    monkeypatch.delenv("CODELENS_TEST_FAULT")
    assert client.start(project)["pid"] != daemon.pid  # the next client gets a fresh one


def test_buffer_scan_matches_unsaved_content(project: Path) -> None:
    client.start(project)
    reply = client.call(project, "scan", {
        "configs": [str(project / "rules.yaml")], "output": "json",
        "buffers": {"src/a.py": "def alpha():\n    return 1\n\nresult = eval(typed)\n"}})
    results = json.loads(reply["output"])["results"]
    assert [(r["path"], r["start"]["line"], r["extra"]["message"]) for r in results] == [
        ("src/a.py", 4, "eval of typed")]
    count = {"sql": "SELECT count(*) FROM files"}
    wait_until(lambda: client.call(project, "query", count)["rows"] == [[2]])  # first index
    stored = client.call(project, "query", {"sql": "SELECT name FROM symbols"})
    assert stored["rows"] == [["alpha"]]  # the stored index has the file on disk, not the buffer
    assert "eval(x)" in (project / "src" / "a.py").read_text()  # the file was not touched


def test_daemon_scans_follow_edits_incrementally(project: Path) -> None:
    client.start(project)
    config = str(project / "rules.yaml")

    def scan() -> tuple[set[tuple[str, int]], dict]:
        reply = client.call(project, "scan", {"configs": [config], "output": "json"})
        report = json.loads(reply["output"])
        return {(r["path"], r["start"]["line"]) for r in report["results"]}, reply["stats"]

    wait_until(lambda: scan()[0] == {("src/a.py", 2)})
    first, stats = scan()
    assert stats["incremental"] and stats["paths_matched"] == 0  # nothing changed: kept
    (project / "src" / "b.py").write_text("y = 1\nz = eval(y)\n")
    wait_until(lambda: scan()[0] == {("src/a.py", 2), ("src/b.py", 2)})
    (project / "src" / "c.py").write_text("w = eval(v)\n")
    wait_until(lambda: client.call(project, "query", {
        "sql": "SELECT count(*) FROM files WHERE path = 'src/c.py'"})["rows"] == [[1]])
    found, stats = scan()
    assert ("src/c.py", 1) in found
    assert stats["incremental"] and stats["paths_matched"] == 0  # refreshed after the batch
    (project / "src" / "a.py").unlink()
    wait_until(lambda: scan()[0] == {("src/b.py", 2), ("src/c.py", 1)})
    (project / "rules.yaml").write_text(RULE.replace("eval of $X", "evaluates $X"))
    reply = client.call(project, "scan", {"configs": [config], "output": "text"})
    # the rule file sits in the watched tree: its save already brought the report up to date
    assert "evaluates y" in reply["output"] and "eval of" not in reply["output"]


def test_a_daemon_whose_root_is_deleted_says_so_and_exits(project: Path) -> None:
    entry = client.start(project)
    wait_until(lambda: client.call(project, "query", {"sql": "SELECT count(*) FROM files"})
               ["rows"] == [[2]])
    shutil.rmtree(project)
    wait_until(lambda: gone(entry["pid"]), timeout=30)
    assert not project.exists()  # never recreated with an empty index
    assert client.running(project) is None


def test_slow_and_oversized_clients_cannot_starve_the_daemon(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODELENS_READ_TIMEOUT", "1")
    monkeypatch.setenv("CODELENS_MAX_REQUEST_BYTES", "4096")
    entry = client.start(project)
    slow = []
    for _ in range(6):  # more than the four request threads that used to be all there was
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(entry["socket"])
        connection.sendall(b'{"jsonrpc": "2.0", "id": 1, "meth')  # and then nothing
        slow.append(connection)
    try:
        assert client.call(project, "ping")["pid"] == entry["pid"]  # answered meanwhile
        for connection in slow:  # each dropped once its deadline passed
            connection.settimeout(30)
            assert connection.recv(1) == b""
    finally:
        for connection in slow:
            connection.close()
    huge = raw(entry["socket"], b"x" * 10_000 + b"\n")
    assert huge["error"]["code"] == protocol.INVALID_REQUEST
    assert "over 4096 bytes" in huge["error"]["message"]
    assert client.running(project)["pid"] == entry["pid"]


def test_a_daemon_that_does_not_answer_keeps_its_entry_and_can_be_stopped(
        project: Path, monkeypatch: pytest.MonkeyPatch, private_homes: Path) -> None:
    env = {**os.environ, "CODELENS_TEST_FAULT": "wedge",  # its loop never comes back
           "CODELENS_LIVENESS_TIMEOUT": "600"}  # and it is not the watchdog's to solve
    daemon = subprocess.Popen([sys.executable, "-m", "indexer.service.daemon", "--root",
                               str(project.resolve())], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        registry = private_homes / "home" / ".codelens" / "daemons"
        wait_until(lambda: len(list(registry.glob("*.json"))) == 1)
        (entry_file,) = registry.glob("*.json")
        assert client.running(project) is None and entry_file.exists()  # busy is not gone
        assert client.stop(project)  # it does not answer: a SIGTERM
        daemon.wait(timeout=60)
    finally:
        daemon.kill()
        daemon.wait()


def test_a_query_ends_when_its_client_hangs_up(project: Path) -> None:
    """A query that would run for ever holds a request thread only while its client waits:
    once the client closes its connection the daemon stops the query (not at its 60 s
    bound), and answers the next client."""
    entry = client.start(project)
    endless = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(*) FROM c")
    request = {"jsonrpc": "2.0", "id": 1, "method": "query", "params": {"sql": endless}}
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(entry["socket"])
    try:
        connection.sendall(json.dumps(request).encode() + b"\n")
        wait_until(lambda: client.call(project, "ping")["in_flight"] == 1, timeout=30)
    finally:
        connection.close()
    wait_until(lambda: client.call(project, "ping")["in_flight"] == 0, timeout=20)
    rows = client.call(project, "query", {"sql": "SELECT count(*) FROM files"})["rows"]
    assert rows == [[2]]
