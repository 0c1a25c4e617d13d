"""Parsing front ends: in-process (``--jobs 1``, deterministic) or a pool of worker processes.

Both take an iterable of ParseTask and yield ParseResult. The pool supervises long-lived
workers (``python -m indexer.parse.worker``): batches of tasks go down a pipe, one result per
file comes back. A file that runs past the timeout gets its worker killed; a worker that dies
costs its current file one retry, alone, on a fresh worker, then an error row, never the run.
Workers are recycled after N files or past an RSS ceiling.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from indexer.model import ParseResult, ParseTask, PoolStats
from indexer.parse import library
from indexer.parse import worker as parse_worker

BATCH = 32  # tasks in flight per worker: enough to cover the parent committing a batch
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class Parser(Protocol):
    stats: PoolStats

    def run(self, tasks: Iterable[ParseTask]) -> Iterator[ParseResult]: ...

    def close(self) -> None: ...


class InProcessParser:
    """``--jobs 1``: parse in this process, in order; the timeout cancels tree-sitter itself."""

    takes_content = True  # tasks may carry the bytes the indexer read: no second read

    def __init__(self, max_size: int, timeout: float, marker: Path | None = None) -> None:
        self.stats = PoolStats()
        self._parsers = library.Parsers()
        self._max_size = max_size
        self._timeout = timeout
        self._marker = marker  # exists while this process parses, until the run completes

    def run(self, tasks: Iterable[ParseTask]) -> Iterator[ParseResult]:
        unmarked = self._marker
        for task in tasks:
            if unmarked is not None:  # once per run: rewriting it per file cost ~0.2 ms a file
                unmarked.write_text(f"in-process parse by pid {os.getpid()}\n")
                unmarked = None
            parse_worker._maybe_fault(task.abspath)  # test-only faults, as in a worker
            yield library.parse_file(task, self._parsers, self._max_size, self._timeout)
        if self._marker is not None:
            self._marker.unlink(missing_ok=True)

    def close(self) -> None:
        # reached on success and on Ctrl-C alike; only a process that died keeps the marker
        if self._marker is not None:
            self._marker.unlink(missing_ok=True)


def end_worker(process: Any, stdin: IO[bytes], grace: float = 5.0) -> None:
    """End a worker that loops on its stdin: close it, wait ``grace`` seconds for the worker
    to exit, then kill it; reaped either way."""
    import subprocess

    try:
        stdin.close()
    except OSError:
        pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Worker:
    """One worker process and the tasks it has been sent but not answered, in order."""

    def __init__(self, max_size: int) -> None:
        import subprocess  # here: an in-process run (a small edit) never needs them
        import tempfile

        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "indexer.parse.worker", str(max_size)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        os.set_blocking(self.stdout.fileno(), False)
        self.buffer = bytearray()
        self.pending: deque[tuple[ParseTask, float]] = deque()  # task, time sent
        self.head_since = time.monotonic()  # when the oldest pending task became the current one
        self.files_done = 0
        self.rss_kb = 0
        self.retiring = False

    def send(self, tasks: list[ParseTask]) -> None:
        now = time.monotonic()
        if not self.pending:
            self.head_since = now
        self.pending.extend((task, now) for task in tasks)
        try:
            parse_worker.write_frame(
                self.stdin, {"tasks": [[t.task_id, t.abspath, t.language] for t in tasks]})
        except (BrokenPipeError, ValueError):
            pass  # the worker died: its closed stdout is noticed and its tasks re-run

    def read_results(self) -> tuple[list[tuple[ParseResult, float, float]], bool]:
        """Results now readable, each with the seconds the pool cost it beyond the work itself
        (the worker idle or framing before it, the parent unpacking it); and whether the pipe
        closed. Also the seconds the worker spent on the file itself."""
        try:
            chunk = os.read(self.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return [], False
        closed = chunk == b""  # end of file: the worker is gone
        self.buffer += chunk
        return self._complete_frames(), closed

    def _complete_frames(self) -> list[tuple[ParseResult, float, float]]:
        import msgpack

        done = []
        frame = parse_worker.FRAME
        while len(self.buffer) >= frame.size:
            (length,) = frame.unpack_from(self.buffer)
            if len(self.buffer) < frame.size + length:
                break
            unpacking = time.perf_counter()
            wire = msgpack.unpackb(bytes(self.buffer[frame.size:frame.size + length]), raw=False)
            del self.buffer[:frame.size + length]
            result, self.rss_kb, idle, busy = parse_worker.result_from_wire(wire)
            self.pending.popleft()
            self.head_since = time.monotonic()
            self.files_done += 1
            done.append((result, idle + time.perf_counter() - unpacking, busy))
        return done

    def exit_reason(self) -> str:
        code = self.process.wait(timeout=5)
        self.stderr.seek(0)
        tail = self.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:]
        how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return f"parse worker {how}" + (f": {tail[0]}" if tail else "")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close_pipes()

    def stop(self) -> None:
        """Graceful: close stdin so the worker's loop ends, then reap it."""
        end_worker(self.process, self.stdin)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            try:
                stream.close()
            except OSError:
                pass


class WorkerPool:
    """Persistent worker processes with timeouts, crash isolation and recycling."""

    def __init__(self, jobs: int, max_size: int, timeout: float, recycle_files: int,
                 rss_limit_mb: int) -> None:
        self.stats = PoolStats()
        self._jobs = jobs
        self._max_size = max_size
        self._timeout = timeout
        self._recycle_files = recycle_files
        self._rss_limit_kb = rss_limit_mb * 1024
        self._workers: list[_Worker] = []
        self._solo: set[int] = set()  # retried files, each sent alone
        import selectors

        self._selector = selectors.DefaultSelector()

    def prestart(self) -> None:
        """Start every worker now, ahead of the first batch."""
        while len(self._workers) < self._jobs:
            self._spawn()

    def _spawn(self) -> _Worker:
        worker = _Worker(self._max_size)
        self._workers.append(worker)
        import selectors

        self._selector.register(worker.stdout, selectors.EVENT_READ, worker)
        self.stats.workers += 1
        return worker

    def _remove(self, worker: _Worker, graceful: bool) -> None:
        self._selector.unregister(worker.stdout)
        self._workers.remove(worker)
        worker.stop() if graceful else worker.kill()

    def run(self, tasks: Iterable[ParseTask]) -> Iterator[ParseResult]:
        queue: deque[ParseTask] = deque()
        retry: deque[ParseTask] = deque()  # files whose worker died: one more try, alone
        attempts: dict[int, int] = {}
        source = iter(tasks)
        exhausted = False
        while True:
            exhausted = exhausted or self._fill(queue, source)
            self._dispatch(queue, retry)
            if exhausted and not queue and not retry and not any(w.pending for w in self._workers):
                return
            yield from self._collect(queue, retry, attempts)

    def _fill(self, queue: deque[ParseTask], source: Iterator[ParseTask]) -> bool:
        want = max(self._jobs, 1) * BATCH * 2
        while len(queue) < want:
            task = next(source, None)
            if task is None:
                return True
            queue.append(task)
        return False

    def _dispatch(self, queue: deque[ParseTask], retry: deque[ParseTask]) -> None:
        self._retire_idle()
        while len(self._workers) < self._jobs and (queue or retry):
            self._spawn()
        for worker in list(self._workers):
            if worker.retiring:
                continue
            if retry and not worker.pending:
                worker.send([retry.popleft()])
                continue
            if worker.pending and worker.pending[0][0].task_id in self._solo:
                continue  # a retried file runs alone so its fate is its own
            quota = self._recycle_files - worker.files_done - len(worker.pending)
            room = min(BATCH - len(worker.pending), quota)
            if queue and not retry and room >= min(BATCH // 4, quota) and room > 0:
                worker.send([queue.popleft() for _ in range(min(room, len(queue)))])

    def _retire_idle(self) -> None:
        for worker in list(self._workers):
            if not worker.retiring and (worker.files_done + len(worker.pending)
                                        >= self._recycle_files
                                        or worker.rss_kb > self._rss_limit_kb):
                worker.retiring = True
            if worker.retiring and not worker.pending:
                self._remove(worker, graceful=True)
                self.stats.recycles += 1

    def _collect(self, queue: deque[ParseTask], retry: deque[ParseTask],
                 attempts: dict[int, int]) -> Iterator[ParseResult]:
        working = [w for w in self._workers if w.pending]
        if not working:
            return
        deadline = min(w.head_since for w in working) + self._timeout
        for key, _ in self._selector.select(timeout=max(0.0, deadline - time.monotonic())):
            worker: _Worker = key.data
            results, closed = worker.read_results()
            self.stats.worker_peak_kb = max(self.stats.worker_peak_kb, worker.rss_kb)
            for result, overhead, busy in results:
                self._solo.discard(result.task_id)
                self.stats.overhead_ms.append(overhead * 1000)
                self.stats.service_ms.append((overhead + busy) * 1000)
                yield result
            if closed:
                yield from self._lost(worker, worker.exit_reason(), queue, retry, attempts)
        now = time.monotonic()
        for worker in [w for w in self._workers if w.pending]:
            if now - worker.head_since > self._timeout:
                self.stats.timeouts += 1
                worker.kill()  # reason is ours, not the worker's
                yield from self._lost(worker, f"parse timed out after {self._timeout:g} s",
                                      queue, retry, attempts)

    def _lost(self, worker: _Worker, reason: str, queue: deque[ParseTask],
              retry: deque[ParseTask], attempts: dict[int, int]) -> Iterator[ParseResult]:
        """A worker died or hung: its current file gets one retry, the rest go back in line."""
        pending = [task for task, _ in worker.pending]
        worker.pending.clear()
        self._remove(worker, graceful=False)
        self.stats.respawns += 1
        if not pending:
            return
        head, rest = pending[0], pending[1:]
        queue.extendleft(reversed(rest))
        attempts[head.task_id] = attempts.get(head.task_id, 0) + 1
        if attempts[head.task_id] >= 2:
            self._solo.discard(head.task_id)
            yield ParseResult(task_id=head.task_id, status="failed",
                              error=f"{reason} (twice; file skipped)")
        else:
            self._solo.add(head.task_id)
            retry.append(head)

    def close(self) -> None:
        for worker in list(self._workers):
            self._remove(worker, graceful=True)
        self._selector.close()


def make_parser(jobs: int, max_size: int, timeout: float, recycle_files: int,
                rss_limit_mb: int, marker: Path | None = None) -> Parser:
    """``jobs == 1`` parses in-process (``marker``, if given, names the file being parsed
    while it is); more starts a pool of that many workers."""
    if jobs <= 1:
        return InProcessParser(max_size, timeout, marker)
    return WorkerPool(jobs, max_size, timeout, recycle_files, rss_limit_mb)
