"""Matching rules on the stored ASTs of files, in this process or in worker processes.

A scan hands over work as (file, rule indexes) pairs and gets back, per file, the matches of
each rule as the results cache keeps them (positions, source lines, bindings) and what went
wrong. With ``jobs`` above 1 and enough files to match, the work goes to a pool of spawned
processes (``python -m indexer.matching``, started afresh: a daemon that scans has threads,
which a fork would copy mid-flight), each holding the compiled rules and a read-only
connection of its own; chunks of files go out in path order and come back in the same order,
so that results are reported as they would be in one process.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import select
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

MAX_MATCHES_PER_FILE = 10_000  # of one rule (semgrep's default max_match_per_file)
MAX_LINES = 10  # source lines kept per finding, as semgrep's --max-lines-per-finding default
MAX_BOUND_CHARS = 1000  # of a metavariable's text (a callback can bind a whole function)
MAX_LINES_CHARS = 2000
MIN_PARALLEL_FILES = 48  # below this a batch is matched here: starting workers would not pay
CHUNK_FILES = 8  # files a worker takes at a time
FAULT_ENV = "CODELENS_TEST_FAULT"
TIMED_OUT = "timed out"


class Entry(NamedTuple):
    """A file to match: what scan knows of it."""

    file_id: int
    path: str
    sha256: str
    ast_id: int


class Outcome(NamedTuple):
    """A file's matches, by rule index, and its problems: (rule index or None for the file
    itself, message)."""

    file_id: int
    matches: dict[int, list[Any]]
    problems: list[tuple[int | None, str]]


Work = list[tuple[Entry, list[int]]]
Handle = list[list[Outcome]] | list[int]  # outcomes matched here, or chunks sent out
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


class Limits(NamedTuple):
    """semgrep's bounds: ``timeout`` seconds per rule per file (0: none); a rule that timed
    out on ``threshold`` files (0: never) is not matched any more, as ``timeouts`` (rule
    index -> files) counts in this process."""

    timeout: float = 0.0
    threshold: int = 0
    timeouts: dict[int, int] | None = None
    memory_mb: int = 0  # resident size past which one rule on one file gives up (0: none)

    def dropped(self, index: int) -> bool:
        return bool(self.threshold and self.timeouts and
                    self.timeouts.get(index, 0) >= self.threshold)

    def timed_out(self, index: int) -> None:
        if self.timeouts is not None:
            self.timeouts[index] = self.timeouts.get(index, 0) + 1


NO_LIMITS = Limits()


def match_files(root: Path, connection: Any, rules: list[Any], work: Work,
                limits: Limits = NO_LIMITS) -> list[Outcome]:
    """Each file of ``work`` decoded once and matched against its rules, within
    ``limits``."""
    outcomes = []
    for entry, indexes in work:
        target, problem = load_target(root, connection, entry)
        if target is None:
            outcomes.append(Outcome(entry.file_id, {}, [(None, problem)]))
            continue
        matches: dict[int, list[Any]] = {}
        problems: list[tuple[int | None, str]] = []
        for index in indexes:
            if limits.dropped(index):
                continue
            found, problem = match_rule(rules[index], target, limits.timeout,
                                        limits.memory_mb)
            if problem:
                problems.append((index, problem))
                if problem.startswith(TIMED_OUT):
                    limits.timed_out(index)
            matches[index] = [located(target, m, rules[index]) for m in found]
        outcomes.append(Outcome(entry.file_id, matches, problems))
    return outcomes


def load_target(root: Path, connection: Any, entry: Entry) -> tuple[Any, str]:
    """(the decoded tree and source of a file, "") or (None, why not) when it moved on."""
    from indexer import codec
    from indexer.match.search import Target
    from indexer.match.tree import Tree
    from indexer.store.scans import ast_blob

    try:
        with open(os.path.join(root, entry.path), "rb") as handle:
            source = handle.read()
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if hashlib.sha256(source).hexdigest() != entry.sha256:
        return None, "changed since it was indexed; run the scan again"
    blob = ast_blob(connection, entry.ast_id)
    try:
        if blob is None:
            raise codec.BlobFormatError("its AST is gone from the index")
        return Target(Tree(codec.decode(blob), source)), ""
    except codec.BlobFormatError as exc:
        return None, str(exc)


def match_rule(rule: Any, target: Any, timeout: float = 0.0,
               memory_mb: int = 0) -> tuple[list[Any], str]:
    """A rule's matches in one file, and what went wrong if something did (an exception in
    one rule on one file is reported, never fatal to the scan); past ``timeout`` seconds
    (0: none) the rule gives up on the file with TIMED_OUT in its problem, and so it does
    when the process grows past ``memory_mb`` MiB (0: no bound)."""
    import time

    from indexer.match.evaluate import Evaluation, rule_matches
    from indexer.match.regexes import RegexTimeout
    from indexer.match.search import MatchMemoryLimit, MatchTimeout

    run = Evaluation(target, rule.languages, rule.options)
    target.deadline = time.monotonic() + timeout if timeout > 0 else 0.0
    target.memory_limit = memory_mb << 20
    try:
        matches = rule_matches(rule.formula, run)
        limit = rule.options.get("max_match_per_file") or MAX_MATCHES_PER_FILE
        if len(matches) > limit:
            return [], (f"too many matches ({len(matches)}, more than {limit}): none kept for "
                        "this file; the pattern is probably too general")
        return matches, "; ".join(run.errors)
    except MatchTimeout:
        return [], f"{TIMED_OUT} after {timeout:g} s on this file (--timeout)"
    except MatchMemoryLimit as exc:
        del run
        return [], (f"out of memory: the process held {exc.used >> 20} MiB, more than "
                    f"--max-memory {memory_mb}, matching this file")
    except RecursionError:
        return [], "the pattern is too deep to match here"
    except RegexTimeout as exc:
        return [], str(exc)
    except Exception as exc:  # noqa: BLE001 - one rule on one file must not end the scan
        return [], f"internal error while matching: {type(exc).__name__}: {exc}"
    finally:
        target.deadline = 0.0
        target.memory_limit = 0


# semgrep's syntax: ` nosemgrep` (or ` nosem`) anywhere on the finding's first line, or
# alone on the line above it (nothing but punctuation before it), with `: id1, id2` or not
IDS = rb"(?:[:=][ \t]?([^\s,][^\n]*))?"
NOSEM_INLINE = re.compile(rb" nosem(?:grep)?" + IDS, re.IGNORECASE)
NOSEM_ABOVE = re.compile(rb"^[^a-zA-Z0-9\n]*nosem(?:grep)?" + IDS, re.IGNORECASE)


def nosem(source: bytes, offset: int) -> list[str] | None:
    """What a `nosemgrep` comment for a finding at ``offset`` suppresses: None (there is
    none), [] (every rule) or the rule ids it names."""
    line_start = source.rfind(b"\n", 0, offset) + 1
    line_end = source.find(b"\n", offset)
    found = NOSEM_INLINE.search(source[line_start:line_end if line_end >= 0 else len(source)])
    if found is None and line_start > 0:
        above = source[source.rfind(b"\n", 0, line_start - 1) + 1:line_start - 1]
        found = NOSEM_ABOVE.match(above)
    if found is None:
        return None
    ids = found.group(1)
    return [i.decode("utf-8", "replace") for i in re.split(rb"[,\s]+", ids) if i] if ids \
        else []


def suppressed(rule_id: str, ids: list[str] | None) -> bool:
    """Whether a `nosemgrep` comment's ids (see ``nosem``) cover the rule (named by its id,
    or by the last part of a dotted one)."""
    if ids is None:
        return False
    return not ids or any(names(i, rule_id) for i in ids)


def names(name: str, rule_id: str) -> bool:
    """Whether ``name`` (given by a user) names the rule: its id, or the last part of a
    dotted one (semgrep prefixes ids with the config's folders)."""
    return name == rule_id or rule_id.endswith("." + name)


def located(target: Any, match: Any, rule: Any = None) -> list[Any]:
    """A match as cached: positions, the source lines, what each metavariable bound, what
    a `nosemgrep` comment there suppresses (see ``nosem``), and the text of ``rule``'s fix
    for it (None without one)."""
    source, position = target.source, target.position
    start, end = position(match.start), position(match.end)
    line_start = source.rfind(b"\n", 0, match.start) + 1
    line_end = source.find(b"\n", match.end)
    lines = source[line_start:line_end if line_end >= 0 else len(source)].decode(
        "utf-8", "replace").split("\n")
    shown = "\n".join(lines[:MAX_LINES]) + (
        f"\n[{len(lines) - MAX_LINES} more lines]" if len(lines) > MAX_LINES else "")
    shown = clip(shown, MAX_LINES_CHARS)  # a minified bundle is one line of 500 KB
    metavars = {name: _bound(target, value) for name, value in match.env.items()}
    return [start, end, shown, metavars, nosem(source, match.start), fix_of(rule, target, match)]


def fix_of(rule: Any, target: Any, match: Any) -> str | None:
    """The text that replaces the match, when ``rule`` has a fix (indexer/match/fixes.py)."""
    if rule is None or (rule.fix is None and rule.fix_regex is None):
        return None
    from indexer.match import fixes
    from indexer.match.regexes import RegexTimeout

    code = {name: _code(target, value) for name, value in match.env.items()}
    try:
        return fixes.render(rule.fix, rule.fix_regex, target.source, match.start, match.end,
                            code)
    except RegexTimeout:  # a fix-regex that runs for seconds on one match offers no fix
        return None


def _code(target: Any, value: Any) -> str:
    """The code a binding puts into a fix, as written (a string's content as written
    between its quotes)."""
    if isinstance(value, tuple):
        start, end = (value[0].start, value[-1].end) if value else (0, 0)
    else:
        start, end = value.start, value.end
    text = target.source[start:end].decode("utf-8", "replace")
    if isinstance(value, tuple) or value.kind != "Text" or text == str(value.value):
        return text
    if len(text) >= 2 and text[0] in "'\"`" and text[-1] == text[0]:
        return text[1:-1]  # the whole literal: its content as written, escapes and all
    return str(value.value)


def _bound(target: Any, value: Any) -> list[Any]:
    """A binding as cached: its start and end positions and its text."""
    if isinstance(value, tuple):
        start, end = (value[0].start, value[-1].end) if value else (0, 0)
    else:
        start, end = value.start, value.end
    if not isinstance(value, tuple) and value.kind in ("Text", "Span"):
        text = str(value.value)
    else:
        text = target.source[start:end].decode("utf-8", "replace")
    return [target.position(start), target.position(end), clip(text)]


def clip(text: str, limit: int = MAX_BOUND_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "[...]"


class Matching:
    """Matches work in this process, or (``jobs`` > 1, and a batch worth it) in worker
    processes started the first time one is worth it. ``start`` queues a batch's work and
    returns a handle; ``outcomes(handle)`` yields its outcomes in order, keeping each worker
    a few chunks ahead, so that workers match the next batch while the caller stores this
    one. A worker that dies costs only time: what it had is matched here instead."""

    def __init__(self, root: Path, db_path: Path, connection: Any, rules: list[Any],
                 jobs: int, limits: Limits = NO_LIMITS) -> None:
        self.root, self.db_path, self.connection = root, db_path, connection
        self.rules, self.jobs = rules, jobs
        self.limits = limits._replace(timeouts={})  # counted here; each worker counts its own
        self.processes = 0  # worker processes this run started
        self.lost = 0  # of them, how many died
        self._workers: list[_Worker] = []
        self._work: dict[int, Work] = {}  # chunk -> its work, until reported
        self._queue: deque[int] = deque()  # chunks not sent yet, in order
        self._done: dict[int, list[Outcome]] = {}  # chunks answered, not reported yet
        self._chunks = 0
        self._broken = False

    def start(self, work: Work) -> Handle:
        if self.jobs <= 1 or len(work) < MIN_PARALLEL_FILES or self._broken:
            return [match_files(self.root, self.connection, self.rules, work, self.limits)]
        if not self._workers:
            from indexer.match.pattern import compiled

            # the rules, and their patterns as compiled here (a worker need not compile them)
            blob = pickle.dumps((self.rules, compiled()))
            self._workers = [_Worker(self.root, self.db_path, blob, self.limits)
                             for _ in range(self.jobs)]
            self.processes = self.jobs
        handle = []
        for at in range(0, len(work), CHUNK_FILES):
            self._work[self._chunks] = work[at:at + CHUNK_FILES]
            self._queue.append(self._chunks)
            handle.append(self._chunks)
            self._chunks += 1
        self._top_up()
        return handle

    def outcomes(self, handle: Handle) -> Iterator[Outcome]:
        """The outcomes of ``start``'s work, in its order. Meanwhile every worker that
        answers gets the next chunk at once, whichever chunk the caller waits for."""
        for item in handle:
            if isinstance(item, list):
                yield from item
                continue
            while item not in self._done and not self._broken:
                self._receive_one()
            found = self._done.pop(item, None)
            work = self._work.pop(item)
            if found is None:  # a worker died: this chunk (and the rest) is matched here
                found = match_files(self.root, self.connection, self.rules, work, self.limits)
            yield from found

    def _receive_one(self) -> None:
        """Wait for any worker's next outcomes; on a worker's death, stop using workers."""
        busy = {w.stdout.fileno(): w for w in self._workers if w.pending}
        if not busy:
            self._top_up()
            return
        ready, _, _ = select.select(list(busy), [], [])
        worker = busy[ready[0]]
        chunk = worker.pending[0]
        found = worker.receive()
        if found is None:
            self._broken = True
            self.lost = sum(w.process.poll() not in (None, 0) for w in self._workers)
            self.close()
            return
        self._done[chunk] = found
        self._top_up()

    def _top_up(self) -> None:
        for worker in self._workers:
            while self._queue and len(worker.pending) < WINDOW:
                chunk = self._queue.popleft()
                worker.send(chunk, self._work[chunk])

    def close(self) -> None:
        for worker in self._workers:
            worker.close()


WINDOW = 2  # chunks a worker holds at once: the next is there when it finishes one


class _Worker:
    """A ``python -m indexer.matching`` process: pickled work in, pickled outcomes out, in
    order."""

    def __init__(self, root: Path, db_path: Path, rules: bytes, limits: Limits) -> None:
        import subprocess
        import sys

        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen([sys.executable, "-m", "indexer.matching"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.pending: deque[int] = deque()  # chunks sent, in order
        self._write((str(root), str(db_path), rules, limits.timeout, limits.threshold,
                     limits.memory_mb))

    def send(self, chunk: int, work: Work) -> None:
        self.pending.append(chunk)
        self._write(work)

    def receive(self) -> list[Outcome] | None:
        """The outcomes of the oldest chunk sent, or None if the worker died. Read with
        os.read, a length-prefixed message at a time: no bytes wait in a Python buffer
        where select() cannot see them."""
        header = self._exactly(8)
        body = self._exactly(int.from_bytes(header, "big")) if header is not None else None
        try:
            found: list[Outcome] | None = pickle.loads(body) if body is not None else None
        except (pickle.UnpicklingError, EOFError, ValueError):
            found = None
        if found is None:
            self.process.wait()
            return None
        self.pending.popleft()
        return found

    def _exactly(self, size: int) -> bytes | None:
        parts, left, fd = [], size, self.stdout.fileno()
        while left:
            try:
                part = os.read(fd, min(left, 1 << 20))
            except OSError:
                return None
            if not part:
                return None  # it died
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _write(self, message: Any) -> None:
        try:
            pickle.dump(message, self.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # it died: noticed when its outcomes are read

    def close(self) -> None:
        from indexer.parse.pool import end_worker

        end_worker(self.process, self.stdin)  # end of work: it exits
        self.stdout.close()


def _worker_main() -> None:
    """A worker: the root, database and rules, then chunks of work until stdin closes."""
    import signal
    import sys

    from indexer.store.connection import open_db

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by mistake must not corrupt the outcomes
    root, db_path, blob, timeout, threshold, memory_mb = pickle.load(stdin)
    limits = Limits(timeout, threshold, {}, memory_mb)
    connection = open_db(Path(db_path), readonly=True)
    from indexer.match.pattern import remember

    rules, patterns = pickle.loads(blob)
    remember(patterns)
    fault = os.environ.get(FAULT_ENV, "")
    while True:
        try:
            work = pickle.load(stdin)
        except EOFError:
            return
        if fault.startswith("crash-match:") and any(e.path == fault[12:] for e, _ in work):
            os._exit(70)  # test-only: a worker that dies (see tests/test_scan.py)
        answer = pickle.dumps(match_files(Path(root), connection, rules, work, limits),
                              protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(len(answer).to_bytes(8, "big") + answer)
        stdout.flush()


if __name__ == "__main__":
    # through the module's own name: outcomes pickled from __main__ would name classes the
    # parent cannot find
    from indexer.matching import _worker_main as worker_main

    worker_main()
