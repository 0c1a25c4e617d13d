"""Finding, starting and stopping a root's daemon; the registry of running daemons."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from indexer.service import protocol
from indexer.service.protocol import DaemonError

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
START_TIMEOUT = 30.0


_VERIFIED: dict[str, dict[str, Any]] = {}  # roots whose daemon answered a ping here


def running(root: Path) -> dict[str, Any] | None:
    """The registry entry of a live daemon for ``root``, or None (stale entries are removed)."""
    entry_file = protocol.registry_file(root)
    _VERIFIED.pop(str(root), None)
    try:
        entry = json.loads(entry_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if _answers(entry):
        _VERIFIED[str(root)] = entry
        return entry
    _forget(entry_file, entry)
    return None


def _answers(entry: dict[str, Any]) -> bool:
    if not protocol.alive(int(entry.get("pid", 0))):
        return False
    try:
        protocol.call(Path(entry["socket"]), "ping", timeout=5)
    except DaemonError:
        return False
    return True


def _registered_alive(root: Path) -> dict[str, Any] | None:
    """The registry entry of ``root`` if its process lives (whether it answers or not)."""
    try:
        entry = json.loads(protocol.registry_file(root).read_text())
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and protocol.alive(int(entry.get("pid", 0))) \
        else None


def _forget(entry_file: Path, entry: dict[str, Any]) -> None:
    """A crashed daemon's leftovers: its registry entry and its socket. Those of a daemon
    whose process lives are kept, even when it did not answer (it may be busy): only its
    own exit, or its liveness watchdog, removes them."""
    if protocol.alive(int(entry.get("pid", 0))):
        return
    entry_file.unlink(missing_ok=True)
    Path(entry.get("socket", "/nonexistent")).unlink(missing_ok=True)


def start(root: Path, idle_timeout: float | None = None, ppid: int | None = None) -> dict[str, Any]:
    """Start a detached daemon for ``root`` (or return the one running)."""
    root = root.resolve()
    current = running(root)
    if current is not None:
        return current
    argv = [sys.executable, "-m", "indexer.service.daemon", "--root", str(root)]
    if idle_timeout is not None:
        argv += ["--idle-timeout", str(idle_timeout)]
    if ppid is not None:
        argv += ["--ppid", str(ppid)]
    log = open(protocol.runtime_dir() / f"{protocol.root_key(root)[:24]}.log", "ab")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])),
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}  # a long-lived process
    with log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   start_new_session=True, env=env, cwd="/")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        entry = running(root)
        if entry is not None:
            return entry
        if process.poll() is not None and running(root) is None:
            raise DaemonError(f"the daemon for {root} exited with status {process.returncode}",
                              f"see {log.name}")
        time.sleep(0.05)
    raise DaemonError(f"the daemon for {root} did not answer within {START_TIMEOUT:g} s",
                      f"see {log.name}")


def stop(root: Path, wait: float = 10.0) -> bool:
    """Ask the daemon for ``root`` to stop (a SIGTERM if it does not answer); False if none
    was running."""
    entry = _registered_alive(root.resolve())
    if entry is None:
        running(root.resolve())  # (clears a dead one's leftovers)
        return False
    pid = int(entry["pid"])
    try:
        protocol.call(Path(entry["socket"]), "shutdown", timeout=5)
    except DaemonError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while protocol.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if protocol.alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def all_running() -> list[dict[str, Any]]:
    """Every registered daemon that is alive; stale registry entries are removed."""
    found = []
    for entry_file in sorted(protocol.registry_dir().glob("*.json")):
        try:
            entry = json.loads(entry_file.read_text())
        except ValueError:
            entry_file.unlink(missing_ok=True)
            continue
        if _answers(entry):
            found.append(entry)
        else:
            _forget(entry_file, entry)
    return found


def call(root: Path, method: str, params: dict[str, Any] | None = None) -> Any:
    """A request to the root's daemon (one this process already saw answer is not pinged
    again: its socket path is fixed per root, so a dead one fails to connect all the same)."""
    entry = _VERIFIED.get(str(root)) or running(root)
    if entry is None:
        raise DaemonError(f"no daemon is running for {root}", "start one: codelens daemon start")
    return protocol.call(Path(entry["socket"]), method, params)
