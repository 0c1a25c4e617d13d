"""The per-project daemon: one warm process holding the watcher and the only write connection.

At most one per root (an exclusive lock, not a race). It answers newline-delimited JSON-RPC 2.0
on a Unix socket, a thread per client, writes serialised by one lock. It exits after
``--idle-timeout`` seconds without a request, when ``--ppid`` dies, or when its socket file is
removed or replaced; a separate liveness watchdog kills it if its loop stops heartbeating.

Run as ``python -m indexer.service.daemon --root ROOT [--idle-timeout S] [--ppid PID]``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from indexer.errors import CodelensError
from indexer.service import protocol

DEFAULT_IDLE_TIMEOUT = 300.0
RECENT_SCANS = 4  # (rules, scope, options) the daemon keeps current between requests
CLIENT_THREADS = 16  # bounded: each costs a stack and a malloc arena; slow clients time out
# seconds a connection may take to send a request line, and the longest line (a scan of
# unsaved buffers is the largest request)
READ_TIMEOUT = float(os.environ.get("CODELENS_READ_TIMEOUT", "10"))
MAX_REQUEST_BYTES = int(os.environ.get("CODELENS_MAX_REQUEST_BYTES", str(64 << 20)))
HEARTBEAT_SECONDS = 1.0
QUERY_TIMEOUT = 60.0  # seconds a query may hold a request thread
LIVENESS_TIMEOUT = float(os.environ.get("CODELENS_LIVENESS_TIMEOUT", "30"))
FAULT_ENV = "CODELENS_TEST_FAULT"  # test-only: "wedge" stops the loop after start


class Daemon:
    def __init__(self, root: Path, idle_timeout: float, ppid: int | None, settle: float) -> None:
        from indexer.settings import (
            DEFAULT_LOCK_TIMEOUT,
            IndexOptions,
            default_db_path,
            resolve_jobs,
        )

        self.root = root.resolve()
        self.db_path = default_db_path(self.root).resolve()
        # a batch waits for a `codelens index` run in another process rather than failing
        self.options = IndexOptions(root=self.root, db_path=self.db_path, jobs=resolve_jobs(None),
                                    lock_timeout=DEFAULT_LOCK_TIMEOUT)
        self.idle_timeout = idle_timeout
        self.ppid = ppid
        self.settle = settle
        self.write_lock = threading.Lock()
        self.last_request = time.monotonic()
        self.stopping = threading.Event()
        self.socket_path = protocol.socket_path(self.root)
        self.heartbeat = self.socket_path.with_suffix(".beat")
        self.requests = 0
        self.in_flight = 0  # requests other than ping being answered now
        self._counting = threading.Lock()
        self._requester = threading.local()  # .connection: the socket of this thread's client
        self.ready = threading.Event()  # set once the first index has run
        self.recent_scans: list[Any] = []
        self._trimmed_at = 0
        self.started_at = time.time()
        # a bounded set of request threads: each thread costs a stack and a malloc arena
        self.clients = ThreadPoolExecutor(max_workers=CLIENT_THREADS,
                                          thread_name_prefix="codelens-client")

    # -- life cycle -------------------------------------------------------------------------
    def run(self) -> int:
        lock = open(protocol.lock_path(self.root), "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"codelens: a daemon already serves {self.root}", file=sys.stderr)
            return 0
        try:
            return self._serve()
        finally:
            self._cleanup()
            lock.close()

    def _serve(self) -> int:
        from indexer import engine
        from indexer.parse.pool import make_parser
        from indexer.service.watcher import Watcher

        options = self.options
        self.pool = make_parser(options.jobs, options.max_file_size, options.parse_timeout,
                                options.recycle_files, options.rss_limit_mb)
        listener = self._listen()
        watcher = self.watcher = Watcher(self.options, self.settle, self.write_lock,
                                         log=self._log, pool=self.pool,
                                         after_batch=self._refresh_scans)
        watcher.start()  # events from now on are kept; the first index covers the rest
        first = threading.Thread(target=self._first_index, args=(engine,), daemon=True)
        first.start()
        liveness = self._start_liveness()
        self._register()
        try:
            self._loop(listener)
        finally:
            listener.close()
            self.clients.shutdown(wait=False, cancel_futures=True)
            watcher.stop()
            first.join()
            self.pool.close()
            liveness.kill()
            liveness.wait()
        return 0

    def _first_index(self, engine: Any) -> None:
        try:
            with self.write_lock:
                engine.index(self.options, pool=self.pool)
        except CodelensError as exc:
            self._log(f"codelens: daemon: first index failed: {exc}")
        finally:
            self.ready.set()  # requests waited for this: the database exists from here on

    def _listen(self) -> socket.socket:
        if self.socket_path.exists() or self.socket_path.is_symlink():
            self.socket_path.unlink()  # stale: we hold the lock, so nobody serves it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(old_mask)
        os.chmod(self.socket_path, 0o600)
        listener.listen(64)
        listener.settimeout(HEARTBEAT_SECONDS)
        self._socket_inode = self.socket_path.stat().st_ino
        return listener

    def _register(self) -> None:
        entry = {"pid": os.getpid(), "socket": str(self.socket_path), "root": str(self.root),
                 "started_at": self.started_at, "db": str(self.db_path)}
        protocol.write_private(protocol.registry_file(self.root), json.dumps(entry))

    def _start_liveness(self) -> subprocess.Popen[bytes]:
        self._beat()
        return subprocess.Popen(
            [sys.executable, "-m", "indexer.service.liveness", str(os.getpid()),
             str(self.heartbeat), str(LIVENESS_TIMEOUT), str(self.socket_path),
             str(protocol.registry_file(self.root))], start_new_session=True)

    def _beat(self) -> None:
        self.heartbeat.touch()

    def _loop(self, listener: socket.socket) -> None:
        wedge = os.environ.get(FAULT_ENV) == "wedge"
        while not self.stopping.is_set():
            if wedge:
                time.sleep(10**6)  # test-only: a loop that never comes back
            self._beat()
            self._trim_when_quiet()
            reason = self._reason_to_stop()
            if reason:
                self._log(f"codelens: daemon for {self.root} stopping: {reason}")
                return
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    return
                raise
            self.clients.submit(self._client, connection)

    def _trim_when_quiet(self) -> None:
        """After a burst of requests, hand freed memory back to the system (glibc keeps it)."""
        quiet = time.monotonic() - self.last_request
        if quiet > HEARTBEAT_SECONDS and self.requests != self._trimmed_at:
            self._trimmed_at = self.requests
            try:
                import ctypes

                ctypes.CDLL("libc.so.6").malloc_trim(0)
            except (OSError, AttributeError):
                pass  # not glibc: nothing to trim

    def _reason_to_stop(self) -> str:
        if time.monotonic() - self.last_request > self.idle_timeout:
            return f"idle for {self.idle_timeout:g} s"
        if self.ppid is not None and not protocol.alive(self.ppid):
            return f"parent process {self.ppid} exited"
        if not self.root.is_dir():
            return "its root folder is gone"
        if not self.watcher_alive():
            return "its watcher stopped (see the lines above)"
        try:
            if self.socket_path.stat().st_ino != self._socket_inode:
                return "its socket was replaced"
        except FileNotFoundError:
            return "its socket was removed"
        return ""

    def watcher_alive(self) -> bool:
        watcher = getattr(self, "watcher", None)
        return watcher is None or watcher.alive()

    def _cleanup(self) -> None:
        for path in (self.heartbeat, protocol.registry_file(self.root)):
            path.unlink(missing_ok=True)
        try:
            if self.socket_path.stat().st_ino == getattr(self, "_socket_inode", None):
                self.socket_path.unlink()
        except FileNotFoundError:
            pass

    def _log(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    # -- requests ---------------------------------------------------------------------------
    def _client(self, connection: socket.socket) -> None:
        """Requests of one connection, a line each. A client that sends nothing, or half a
        line, for READ_TIMEOUT seconds is dropped (it cannot hold a request thread), and so
        is a line over MAX_REQUEST_BYTES, after an error reply."""
        connection.settimeout(READ_TIMEOUT)
        self._requester.connection = connection
        with connection, connection.makefile("rb") as reader:
            while not self.stopping.is_set():
                try:
                    line = reader.readline(MAX_REQUEST_BYTES + 1)
                except OSError:  # the deadline passed, or the client went away
                    return
                if not line:
                    return
                if len(line) > MAX_REQUEST_BYTES and not line.endswith(b"\n"):
                    self._reply(connection, _error(None, protocol.INVALID_REQUEST,
                                                   f"request over {MAX_REQUEST_BYTES} bytes"))
                    return
                self.last_request = time.monotonic()
                reply = self.handle(line)
                if reply is not None and not self._reply(connection, reply):
                    return

    @staticmethod
    def _reply(connection: socket.socket, reply: dict[str, Any]) -> bool:
        try:
            connection.sendall(protocol.encode(reply))
        except OSError:
            return False
        return True

    def handle(self, line: bytes) -> dict[str, Any] | None:
        try:
            message = json.loads(line)
        except ValueError as exc:
            return _error(None, protocol.PARSE_ERROR, f"not JSON: {exc}")
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(
                message.get("method"), str):
            return _error(message.get("id") if isinstance(message, dict) else None,
                          protocol.INVALID_REQUEST, "not a JSON-RPC 2.0 request")
        ident, method = message.get("id"), message["method"]
        params = message.get("params") or {}
        handler = getattr(self, "rpc_" + method, None)
        if handler is None:
            return _error(ident, protocol.METHOD_NOT_FOUND, f"no method {method!r}")
        if not isinstance(params, dict):
            return _error(ident, protocol.INVALID_PARAMS, "params must be an object")
        counted = method != "ping"  # work served, not liveness checks
        self.requests += counted
        if method not in ("ping", "shutdown"):
            self.ready.wait()  # never answer from a database the first index is still creating
        if counted:
            self._count(+1)
        try:
            result = handler(**params)
        except TypeError as exc:
            return _error(ident, protocol.INVALID_PARAMS, str(exc))
        except CodelensError as exc:
            return _error(ident, protocol.CODELENS_ERROR, exc.message,
                          {"hint": exc.hint, "exit_code": exc.exit_code})
        except Exception as exc:  # a bug must not take the daemon down with it
            self._log(traceback.format_exc())
            return _error(ident, protocol.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        finally:
            if counted:
                self._count(-1)
        return {"jsonrpc": "2.0", "id": ident, "result": result}

    def _count(self, step: int) -> None:
        with self._counting:
            self.in_flight += step

    def rpc_ping(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "root": str(self.root), "requests": self.requests,
                "in_flight": self.in_flight,
                "uptime": round(time.time() - self.started_at, 1), "db": str(self.db_path)}

    def rpc_index(self) -> dict[str, Any]:
        from indexer import engine

        with self.write_lock:
            return engine.index(self.options, pool=self.pool)

    def rpc_query(self, sql: str, timeout: float = QUERY_TIMEOUT) -> dict[str, Any]:
        """Rows of read-only SQL, the query stopped after ``timeout`` seconds (at most
        QUERY_TIMEOUT: a request thread is never held for ever) or as soon as the client
        that asked hangs up."""
        from indexer.queries import run_query

        connection = getattr(self._requester, "connection", None)
        columns, rows = run_query(self.db_path, sql, min(float(timeout), QUERY_TIMEOUT),
                                  partial(_hung_up, connection) if connection else None)
        return {"columns": columns, "rows": [list(map(_jsonable, row)) for row in rows]}

    def rpc_status(self) -> dict[str, Any]:
        from indexer.queries import status

        return status(self.db_path)

    def rpc_scan(self, configs: list[str], paths: list[str] | None = None,
                 output: str = "json", buffers: dict[str, str] | None = None,
                 use_prefilter: bool = True, use_cache: bool = True,
                 output_file: str | None = None, timeout: float = 5.0,
                 timeout_threshold: int = 3, nosem: bool = True,
                 exclude_rules: list[str] | None = None,
                 severities: list[str] | None = None, max_memory: int = 0,
                 typed: list[str] | None = None, include: list[str] | None = None,
                 exclude: list[str] | None = None) -> dict[str, Any]:
        from indexer import output as formats
        from indexer.scan import ScanOptions, scan, scan_buffers
        from indexer.typed_paths import Target, as_typed

        rule_paths = [Path(c) for c in configs]
        if buffers:
            report = scan_buffers(rule_paths, buffers, bool(nosem))
        else:
            self.watcher.flush()  # what was saved before the request is what gets scanned
            options = ScanOptions(self.root, self.db_path, rule_paths, paths or [""],
                                  use_prefilter, use_cache, self.options.jobs,
                                  float(timeout), int(timeout_threshold), bool(nosem),
                                  tuple(exclude_rules or ()), tuple(severities or ()),
                                  max(0, int(max_memory)), tuple(include or ()),
                                  tuple(exclude or ()))
            with self.write_lock:  # the watcher keeps the index current: no walk here
                report = scan(options)
            self._remember(options)
        if typed and paths and len(typed) == len(paths):  # paths as the client typed them
            report = as_typed(report, [Target(path, str(shown))
                                       for path, shown in zip(paths, typed, strict=True)])
        if output_file:  # the same user's file: no need to ship megabytes through the socket
            formats.write_file(report, output, Path(output_file))
            text = ""
        else:
            text = formats.render(report, output)
        return {"output": text, "findings": report.total, "stats": report.stats}

    def _remember(self, options: Any) -> None:
        """Keep the last few scans asked for, to refresh after each batch of edits."""
        with self.write_lock:
            self.recent_scans = [options] + [o for o in self.recent_scans if o != options]
            del self.recent_scans[RECENT_SCANS:]

    def _refresh_scans(self, summary: dict[str, Any]) -> None:
        """After a batch, bring the kept reports of recent scans up to date, so that the next
        request only reads its report (a request flushes the watcher, which waits for this)."""
        from indexer.scan import scan

        files = summary["files"]
        if not files["added"] + files["modified"] + files["deleted"]:
            return
        for options in list(self.recent_scans):
            try:
                with self.write_lock:
                    scan(options)
            except CodelensError as exc:
                self._log(f"codelens: daemon: refreshing a scan failed: {exc}")

    def rpc_shutdown(self) -> dict[str, Any]:
        self.stopping.set()
        return {"stopping": True}


def _hung_up(connection: socket.socket) -> bool:
    """Whether the client at the other end of ``connection`` closed it (a request it
    pipelined behind the current one is not a hang-up)."""
    import select

    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (OSError, ValueError):  # reset, or already closed here
        return True


def _error(ident: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": ident, "error": error}


def _jsonable(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codelens-daemon")
    parser.add_argument("--root", required=True)
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT)
    parser.add_argument("--ppid", type=int, default=None)
    parser.add_argument("--settle", type=float, default=0.05)
    args = parser.parse_args(argv)
    return Daemon(Path(args.root), args.idle_timeout, args.ppid, args.settle).run()


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # requests still in flight (a long query, a client that went quiet) must not hold the
    # exit: the socket, registry entry and lock are released by now
    os._exit(code)
