"""Compiled patterns kept between runs, beside the index: compiling the patterns of a hundred
rules costs ~90 ms (tree-sitter parses and conversions), loading them ~1 ms. A store is
valid only for the code that wrote it: its name carries a digest of the matcher's source
files (names, sizes, modification times), so any change to that code starts a new one.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from indexer.match import pattern

MAX_BYTES = 64 << 20  # a store past this is not read (and is written anew)


@functools.cache
def code_digest() -> str:
    """A digest of the code that compiles patterns (this package's source files)."""
    folder = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(folder.rglob("*.py")):
        stat = path.stat()
        stamps.append(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]


def store_path(folder: Path) -> Path:
    return folder / f"patterns-{code_digest()}.pickle"


def load(folder: Path) -> int:
    """Hand this process the patterns stored in ``folder``; how many (0 when there is no
    valid store: it is only a cache)."""
    path = store_path(folder)
    try:
        if path.stat().st_size > MAX_BYTES:
            return 0
        with open(path, "rb") as handle:
            patterns = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            ValueError, TypeError):
        return 0
    if not isinstance(patterns, dict):
        return 0
    pattern.remember(patterns)
    return len(patterns)


def save(folder: Path, known: int) -> None:
    """Store this process's compiled patterns in ``folder`` when it compiled more than the
    ``known`` it loaded (a temporary file renamed over the store; older stores removed)."""
    patterns = pattern.compiled()
    if len(patterns) <= known:
        return
    path = store_path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".patterns.", suffix=".tmp")
    except OSError:
        return  # a read-only index folder: patterns are compiled each run, as before
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(patterns, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        for old in folder.glob("patterns-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        Path(temporary).unlink(missing_ok=True)
