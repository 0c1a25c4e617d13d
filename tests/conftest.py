"""Shared fixtures: trees built from a path->content map, the CLI run in-process, leak guards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest

from indexer.cli import main

REPO = Path(__file__).resolve().parents[1]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> text or bytes) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        return write_tree(tmp_path / "project", files)

    (tmp_path / "project").mkdir()
    return make


@pytest.fixture
def private_homes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A daemon registry (HOME) and socket folder of the test's own (short: sockets need
    < 108 bytes), and no daemon left behind."""
    import tempfile

    from indexer.service import client

    runtime = Path(tempfile.mkdtemp(prefix="cl", dir="/tmp"))
    monkeypatch.setenv("HOME", str(runtime / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("CODELENS_NO_DAEMON", raising=False)
    yield runtime
    for entry in client.all_running():
        client.stop(Path(entry["root"]))


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``codelens ARGS`` in-process; returns exit code and captured output."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def index_json(cli: Callable[..., CliResult], root: Path, *extra: str) -> dict[str, Any]:
    result = cli("index", root, "--json", *extra)
    assert result.code == 0, result.err
    return result.json()


def db_rows(root: Path, sql: str, bindings: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    connection = apsw.Connection(str(root / ".codelens" / "index.db"),
                                 flags=apsw.SQLITE_OPEN_READONLY)
    connection.set_busy_timeout(5000)  # as any reader of a live index should
    try:
        return list(connection.execute(sql, bindings))
    finally:
        connection.close()


EVAL_RULE = """rules:
  - id: no-eval
    languages: [python]
    message: eval of $X
    severity: ERROR
    pattern: eval($X)
"""


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail the test if it never does within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    assert check(), f"still false after {timeout:g} s"


def run_codelens(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
                 **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The CLI in a real subprocess."""
    return subprocess.run([sys.executable, "-m", "indexer.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=REPO, **kwargs)


DROP_DAC = "-dac_override,-dac_read_search"


@pytest.fixture
def public_tmp(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder whose permission bits are restored before pytest removes it."""
    yield tmp_path
    for sub in tmp_path.rglob("*"):
        if not sub.is_symlink():
            sub.chmod(0o755 if sub.is_dir() else 0o644)


def unprivileged(argv: list[str]) -> list[str]:
    """``argv`` run so that file permissions apply: as root, without the capabilities that
    bypass them (root reads any file otherwise)."""
    if os.geteuid() != 0:
        return argv
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    return [setpriv, f"--inh-caps={DROP_DAC}", f"--bounding-set={DROP_DAC}", *argv]


def run_unprivileged(code: str, timeout: float = 120) -> str:
    """Run Python ``code`` with this checkout importable and file permissions in force."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(unprivileged([sys.executable, "-c", code]), capture_output=True,
                            text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                found.add(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a child process or a thread running."""
    threads_before = set(threading.enumerate())
    children_before = _children()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        leaked = _children() - children_before
        if not leaked:
            break
        time.sleep(0.05)
    assert not leaked, f"test leaked child processes {sorted(leaked)}"
    extra = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not extra, f"test leaked threads {extra}"
