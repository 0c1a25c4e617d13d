"""Paths in a report as semgrep spells them: each target argument as the user typed it, joined
with the file's path below it (``sub/a.py`` for ``scan sub``, ``a.py`` for ``scan .`` run in
``sub/``, absolute for an absolute argument).

Reports are kept and stored with paths relative to the index root (the database contract);
this is applied when one is shown, one path's results at a time, and costs nothing when the
targets name themselves as the root does (``codelens scan`` at the root).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any, NamedTuple

PATH_KEY = b'"path":'
LONGEST_PATH = 16_384  # bytes of a stored chunk read to find its path


class Target(NamedTuple):
    """A target argument: where it is below the index root ("" for the root itself) and how
    the user typed it."""

    relative: str
    typed: str


def shown_path(path: str, targets: Iterable[Target]) -> str:
    """``path`` (relative to the index root) as the first target holding it spells it;
    unchanged when no target holds it."""
    for relative, typed in targets:
        if path == relative:  # a file target
            return str(PurePosixPath(typed))
        if not relative or path.startswith(relative + "/"):
            return str(PurePosixPath(typed) / path[len(relative) + 1 if relative else 0:])
    return path


def as_typed(report: Any, targets: list[Target]) -> Any:
    """``report`` (a scan.ScanReport) with its result and error paths as ``targets`` spell
    them; the report itself when they spell them as the index does."""
    if all(str(PurePosixPath(t.typed)) == (t.relative or ".") for t in targets):
        return report
    errors = [{**e, "path": shown_path(e["path"], targets)}
              if isinstance(e.get("path"), str) and not e["path"].startswith("/") else e
              for e in report.errors]
    return report._replace(results=_Renamed(report.results, targets), errors=errors)


class _Renamed:
    """Stored result chunks (one JSON array per path) with that path respelled, made as they
    are read: however many findings, no second copy is held."""

    def __init__(self, chunks: Iterable[bytes], targets: list[Target]) -> None:
        self.chunks, self.targets = chunks, targets

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            yield self._renamed(chunk)

    def _renamed(self, chunk: bytes) -> bytes:
        at = chunk.find(PATH_KEY)
        if at < 0:
            return chunk  # no results
        head = chunk[at + len(PATH_KEY):at + len(PATH_KEY) + LONGEST_PATH]
        path, _ = json.decoder.scanstring(head.decode("utf-8", "ignore"), 1)  # type: ignore[attr-defined]
        shown = shown_path(path, self.targets)
        if shown == path:
            return chunk
        # every result of a chunk has the same path; a "path": key with an unescaped quote
        # cannot occur inside a JSON string, so this replaces the keys' values only
        return chunk.replace(PATH_KEY + _encoded(path), PATH_KEY + _encoded(shown))


def _encoded(text: str) -> bytes:
    import orjson

    return orjson.dumps(text)
