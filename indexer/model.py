"""Plain data passed between the layers.

No dataclasses here or on the no-op path: importing them (and generating their methods)
costs a no-op run ~30 ms of its ~200.
"""

from __future__ import annotations

from typing import NamedTuple


class FileStamp(NamedTuple):
    """What the stat fast path compares: a file is unchanged when all three are equal.
    A tuple, so that comparing ten thousand of them is C-speed."""

    size: int
    mtime_ns: int
    inode: int


class WalkedFile(NamedTuple):
    """A regular, non-ignored file found under the root."""

    path: str  # relative, '/'-separated
    stamp: FileStamp


class ParseTask(NamedTuple):
    """One file for a parse worker: parse ``abspath`` as ``language``. An in-process parse
    also gets the bytes the indexer already read and hashed, so it need not read them again
    (workers read files themselves: bytes are not worth a trip through a pipe)."""

    task_id: int
    abspath: str
    language: str
    source: bytes | None = None
    sha256: str = ""


class ParseResult:
    """What a worker returns for a task. ``error`` set means no blob."""

    __slots__ = ("task_id", "sha256", "blob", "tokens", "symbols", "node_count", "status",
                 "error", "size", "parser_version")

    def __init__(self, task_id: int, sha256: str = "", blob: bytes = b"",
                 tokens: bytes = b"",
                 symbols: list[tuple[str, str, int, int]] | None = None, node_count: int = 0,
                 status: str = "ok", error: str = "", size: int = 0,
                 parser_version: str = "") -> None:
        self.task_id = task_id
        self.sha256 = sha256
        self.blob = blob
        self.tokens = tokens  # tokens.extract_tokens: distinct, newline-separated
        self.symbols = symbols if symbols is not None else []  # name, kind, start/end line
        self.node_count = node_count
        self.status = status  # ok | syntax_error | failed | vanished | binary | too_large
        self.error = error
        self.size = size
        self.parser_version = parser_version


class PoolStats:
    """What the parse front end did in a run (a pool, or nothing for in-process)."""

    __slots__ = ("workers", "respawns", "timeouts", "recycles", "overhead_ms", "service_ms",
                 "worker_peak_kb")

    def __init__(self) -> None:
        self.workers = self.respawns = self.timeouts = self.recycles = 0
        self.overhead_ms: list[float] = []  # per file, not parsing: pool only
        self.service_ms: list[float] = []  # per file, parsing + overhead
        self.worker_peak_kb = 0
