"""A parse worker process: serves batches of files over a pipe (parsing is library.py).

Run as ``python -m indexer.parse.worker``: it reads length-prefixed msgpack frames on stdin
(``{"tasks": [[task_id, abspath, language], ...]}``) and writes one frame per task on stdout,
in order, as soon as that task is done, so the supervisor can time each file on its own.
Tree-sitter and the grammars are imported once per process, on first use.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
import time
from typing import IO, Any

from indexer import stopping
from indexer.model import ParseResult, ParseTask
from indexer.parse.library import Parsers, parse_file
from indexer.settings import DEFAULT_MAX_FILE_SIZE

FRAME = struct.Struct(">I")
# test-only: "crash:NAME", "hang:NAME", "hang-after:N", "crash-once:NAME:MARKER"
FAULT_ENV = "CODELENS_TEST_FAULT"
RSS_EVERY_S = 0.1  # how fresh the RSS a worker reports is (the pool recycles on it)


_SEEN = [0]  # files this process parsed (for the "hang-after:N" fault)


def _maybe_fault(abspath: str) -> None:
    fault = os.environ.get(FAULT_ENV)
    if not fault:
        return
    kind, _, rest = fault.partition(":")
    name, _, marker = rest.partition(":")
    _SEEN[0] += 1
    if kind == "hang-after" and _SEEN[0] > int(name):
        kind = "hang"  # whatever the file, once N files are parsed
    elif not abspath.endswith(name):
        return
    if kind == "crash" or (kind == "crash-once" and not os.path.exists(marker)):
        if marker:
            open(marker, "w").close()
        os._exit(70)
    if kind == "hang":  # until stopped: killed (a worker), or a stop request (in-process)
        while not stopping.requested():
            time.sleep(0.05)


def result_to_wire(result: ParseResult, rss_kb: int, idle_s: float, busy_s: float) -> list[Any]:
    return [result.task_id, result.sha256, result.blob, result.tokens, result.symbols,
            result.node_count, result.status, result.error, result.size, result.parser_version,
            rss_kb, idle_s, busy_s]


def result_from_wire(wire: list[Any]) -> tuple[ParseResult, int, float, float]:
    """(result, the worker's RSS in KiB, seconds the worker spent between its previous file
    and this one (writing that result, waiting for and reading this request), seconds it
    worked on this one)."""
    (task_id, sha, blob, tokens, symbols, nodes, status, error, size, version, rss_kb, idle,
     busy) = wire
    return ParseResult(task_id, sha, blob, tokens, [tuple(s) for s in symbols], nodes, status,
                       error, size, version), rss_kb, idle, busy


def write_frame(out: IO[bytes], payload: Any) -> None:
    import msgpack

    data = msgpack.packb(payload, use_bin_type=True)
    out.write(FRAME.pack(len(data)) + data)
    out.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame, or None at end of stream."""
    import msgpack

    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    (length,) = FRAME.unpack(head)
    return msgpack.unpackb(stream.read(length), raw=False)


def _rss_kb() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def serve(stdin: IO[bytes], stdout: IO[bytes], max_size: int) -> None:
    """Answer task batches until stdin closes."""
    parsers = Parsers()
    finished = time.perf_counter()  # end of the previous file's work, result written
    rss_kb, rss_read = 0, 0.0
    while (request := read_frame(stdin)) is not None:
        for task_id, abspath, language in request["tasks"]:
            _maybe_fault(abspath)
            started = time.perf_counter()
            result = parse_file(ParseTask(task_id, abspath, language), parsers, max_size)
            done = time.perf_counter()
            if done - rss_read > RSS_EVERY_S:  # /proc costs ~5% of a small file's work
                rss_kb, rss_read = _rss_kb(), done
            write_frame(stdout, result_to_wire(result, rss_kb, started - finished,
                                               done - started))
            finished = time.perf_counter()


def main() -> None:
    max_size = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MAX_FILE_SIZE
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when to stop
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer, max_size)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the supervisor went away or is shutting down: nothing to hand back


if __name__ == "__main__":
    main()
