"""Keep an index current: watchdog events mark paths dirty, a settle window batches them.

Events are hints, change detection is the truth: each batch goes through ``engine.index`` for
the dirty paths (stat, then hash), committed as one generation. A change to an ignore file, an
event on the root itself (watchdog's sign of a queue overflow) or a watch that cannot be added
means a full stat-fast-path rescan instead, never silence.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from indexer.settings import IndexOptions
from indexer.walk import IGNORE_FILES, NEVER_WALKED, UNDECODABLE, shown, utf8

DEFAULT_SETTLE = 0.05
MAX_BATCH_DELAY = 0.3  # seconds an event waits at most for the burst it is part of to end
POLL_FALLBACK_SECONDS = 2.0
WATCHDOG_LOGGER = "watchdog.observers.inotify_c"  # where it says the queue overflowed
LIVENESS_CHECK = 1.0  # seconds between two looks at the root and the batch loop
INOTIFY_HINT = ("raise the limit with `sysctl fs.inotify.max_user_watches=524288` "
                "(and fs.inotify.max_user_instances)")


class Watcher:
    """Watches ``options.root``; runs an index per settled batch of events."""

    def __init__(self, options: IndexOptions, settle: float = DEFAULT_SETTLE,
                 lock: threading.Lock | None = None,
                 log: Callable[[str], None] | None = None, pool: Any = None,
                 after_batch: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.options = options
        self.pool = pool  # warm parse workers to reuse across batches (a daemon's)
        self.after_batch = after_batch  # runs before the batch counts as done (see flush)
        self.settle = settle
        self.lock = lock or threading.Lock()  # shared with anything else that writes
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.root = str(options.root)
        self.db_dir = str(options.db_path.parent)
        self._dirty: set[str] = set()
        self._undecodable: set[str] = set()
        self._full = False
        self._last_event = 0.0
        self._first_event = 0.0  # when the oldest event of the pending batch came
        self._wake = threading.Condition()
        self._stopping = False
        self._running = False
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self.polling = False
        self._overflow: logging.Handler | None = None
        self.batches = 0
        self.last_summary: dict[str, Any] | None = None

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        class Handler(FileSystemEventHandler):
            """Only marks paths: the batch loop decides what to do."""

            def on_any_event(handler, event: Any) -> None:  # noqa: N805
                self.mark(os.fsdecode(event.src_path))
                if getattr(event, "dest_path", ""):
                    self.mark(os.fsdecode(event.dest_path))

        from watchdog import events

        # changes only: opens and reads (ours included, while indexing) would flood the queue
        changes: list[type[events.FileSystemEvent]] = [
            events.FileCreatedEvent, events.FileModifiedEvent, events.FileDeletedEvent,
            events.FileMovedEvent, events.FileClosedEvent, events.DirCreatedEvent,
            events.DirDeletedEvent, events.DirMovedEvent]
        self._overflow = _OverflowSpotter(self._overflowed)
        logging.getLogger(WATCHDOG_LOGGER).addHandler(self._overflow)
        observer = Observer()
        try:
            observer.schedule(Handler(), self.root, recursive=True, event_filter=changes)
            observer.start()
            self._observer = observer
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            self.polling = True
            self.log(f"codelens: cannot watch {self.root} ({exc.strerror}); {INOTIFY_HINT}."
                     f" Falling back to a stat rescan every {POLL_FALLBACK_SECONDS:g} s.")
        self._thread = threading.Thread(target=self._loop, name="codelens-watch", daemon=True)
        self._thread.start()

    def _overflowed(self) -> None:
        """The kernel dropped events (its queue overflowed while we lagged): what changed
        meanwhile is unknown, so the whole tree is looked at (stat first, as always)."""
        self.log("codelens: watch: the system dropped file events (inotify queue overflow); "
                 "rescanning the tree")
        self._mark_full()

    def stop(self) -> None:
        if self._overflow is not None:
            logging.getLogger(WATCHDOG_LOGGER).removeHandler(self._overflow)
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._thread is not None:
            self._thread.join()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until events seen so far are indexed (a reader wants the latest state)."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while (self._dirty or self._full or self._running) and time.monotonic() < deadline:
                self._wake.wait(0.01)

    def mark(self, path: str) -> None:
        """An event touched ``path`` (absolute)."""
        if path == self.root:
            self._mark_full()
            return
        if not path.startswith(self.root + os.sep) or path.startswith(self.db_dir):
            return
        rel = path[len(self.root) + 1:].replace(os.sep, "/")
        parts = rel.split("/")
        if any(part in NEVER_WALKED for part in parts):
            return  # our own database, git's internals: never indexed, never a reason to run
        if parts[-1] in IGNORE_FILES:
            self._mark_full()  # what is indexed may change anywhere below
            return
        if not utf8(rel):  # never stored (see walk.utf8); said once per path
            if rel not in self._undecodable:
                self._undecodable.add(rel)
                self.log(f"codelens: watch: {shown(rel)}: {UNDECODABLE}")
            return
        with self._wake:
            self._pending_since()
            self._dirty.add(rel)
            self._wake.notify_all()

    def _mark_full(self) -> None:
        with self._wake:
            self._pending_since()
            self._full = True
            self._wake.notify_all()

    def _pending_since(self) -> None:
        """An event now (the lock held): the first of a batch starts its clock."""
        now = time.monotonic()
        if not (self._dirty or self._full):
            self._first_event = now
        self._last_event = now

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            paths, full = batch
            try:
                self._run(None if full else paths)
            finally:
                with self._wake:
                    self._running = False
                    self._wake.notify_all()

    def _next_batch(self) -> tuple[set[str], bool] | None:
        with self._wake:
            while True:
                if self._stopping:
                    return None
                pending = self._dirty or self._full
                now = time.monotonic()
                quiet = now - self._last_event
                # a batch closes when events pause, or when it has waited MAX_BATCH_DELAY
                # (a long burst is indexed while it goes on, not only after it)
                waited = now - self._first_event
                if pending and (quiet >= self.settle or waited >= MAX_BATCH_DELAY):
                    batch = (self._dirty, self._full)
                    self._dirty, self._full = set(), False
                    self._running = True
                    return batch
                if self.polling and not pending:
                    self._wake.wait(POLL_FALLBACK_SECONDS)
                    self._full = not self._stopping
                    self._last_event = 0.0
                    continue
                self._wake.wait(min(self.settle - quiet, MAX_BATCH_DELAY - waited)
                                if pending else None)

    def alive(self) -> bool:
        """Whether the batch loop runs (it ends only when stopped)."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float) -> None:
        """Until the batch loop ends, or ``timeout`` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, paths: set[str] | None) -> None:
        """One batch; whatever goes wrong in it is logged with its cause, and the loop goes
        on with the next (the paths stay as they were in the index until then)."""
        from indexer import engine
        from indexer.errors import CodelensError

        started = time.perf_counter()
        try:
            with self.lock:
                summary = engine.index(self.options, paths=paths, pool=self.pool)
            self.batches += 1
            self.last_summary = summary
            if self.after_batch is not None:
                self.after_batch(summary)
        except CodelensError as exc:
            self.log(f"codelens: watch: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - one bad batch must not leave the tree unwatched
            self.log(f"codelens: watch: a batch failed ({type(exc).__name__}: {exc}); "
                     "watching goes on")
            return
        files = summary["files"]
        changed = files["added"] + files["modified"] + files["deleted"]
        if changed or paths is None:
            self.log(f"codelens: {changed} file(s) changed, generation {summary['generation']}, "
                     f"{(time.perf_counter() - started) * 1000:.0f} ms")


class _OverflowSpotter(logging.Handler):
    """watchdog reports an inotify queue overflow only in its log: this hears it."""

    def __init__(self, react: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self.react = react

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.react()


def watch_forever(options: IndexOptions, settle: float = DEFAULT_SETTLE,
                  waiting: Callable[[str], None] | None = None) -> int:
    """``codelens watch``: watch, index, then keep the index current until interrupted (the
    watch starts first, so an edit made during the first index is not missed). Each index
    waits up to ``options.lock_timeout`` seconds for another writer (``waiting`` is told
    once). Exits 2 if the root goes away or the watcher cannot go on."""
    from indexer import engine
    from indexer.parse.pool import make_parser

    # warm parse workers for every batch (a batch would otherwise start its own)
    pool = make_parser(options.jobs, options.max_file_size, options.parse_timeout,
                       options.recycle_files, options.rss_limit_mb)
    watcher = Watcher(options, settle, pool=pool)
    watcher.start()
    try:
        with watcher.lock:  # the watcher's batches wait for it
            summary = engine.index(options, pool=pool, waiting=waiting)
        print(f"codelens: indexed {summary['files']['seen']} files, generation "
              f"{summary['generation']}; watching {options.root} (Ctrl-C to stop)",
              file=sys.stderr)
        while True:
            watcher.wait(LIVENESS_CHECK)
            if not options.root.is_dir():
                print(f"codelens: {options.root} is gone; stopping", file=sys.stderr)
                return 2
            if not watcher.alive():
                print("codelens: the watcher stopped (see above); stopping", file=sys.stderr)
                return 2
    finally:
        watcher.stop()
        pool.close()
