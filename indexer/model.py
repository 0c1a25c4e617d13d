"""Plain data passed between the layers."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class ParseTask:
    """One file for a parse worker: parse ``abspath`` as ``language``."""

    task_id: int
    abspath: str
    language: str


@dataclass(slots=True)
class ParseResult:
    """What a worker returns for a task. ``error`` set means no blob."""

    task_id: int
    sha256: str = ""
    blob: bytes = b""
    tokens: list[str] = field(default_factory=list)
    symbols: list[tuple[str, str, int, int]] = field(default_factory=list)  # name, kind, lines
    node_count: int = 0
    status: str = "ok"  # ok | syntax_error | failed | vanished | binary | too_large
    error: str = ""
    size: int = 0
    parser_version: str = ""


@dataclass
class PoolStats:
    """What the parse front end did in a run (a pool, or nothing for in-process)."""

    workers: int = 0
    respawns: int = 0
    timeouts: int = 0
    recycles: int = 0
    overhead_ms: list[float] = field(default_factory=list)  # per file, not parsing: pool only
    service_ms: list[float] = field(default_factory=list)  # per file, parsing + overhead
    worker_peak_kb: int = 0
