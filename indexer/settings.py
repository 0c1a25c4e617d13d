"""Options that shape an index, with the defaults and the environment overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

DB_DIRNAME = ".codelens"
DB_FILENAME = "index.db"
DEFAULT_MAX_FILE_SIZE = 1 << 20
DEFAULT_PARSE_TIMEOUT = 10.0
DEFAULT_RECYCLE_FILES = 5000
DEFAULT_RSS_LIMIT_MB = 1024
DEFAULT_LOCK_TIMEOUT = 120.0  # seconds a second writer waits for the first
BINARY_SNIFF_BYTES = 8192


class IndexOptions(NamedTuple):
    root: Path
    db_path: Path
    jobs: int = 0
    only: frozenset[str] | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    parse_timeout: float = DEFAULT_PARSE_TIMEOUT
    recycle_files: int = DEFAULT_RECYCLE_FILES
    rss_limit_mb: int = DEFAULT_RSS_LIMIT_MB
    use_cache: bool = True
    lock_timeout: float = 0.0  # seconds to wait for another writer (the CLI: --lock-timeout)


def default_db_path(root: Path) -> Path:
    """``--db`` wins over ``CODELENS_DB``, which wins over ``ROOT/.codelens/index.db``; a
    root the user cannot write (and that has no index yet) is indexed into the user's cache:
    ``$XDG_CACHE_HOME/codelens/<hash of the root>/index.db``."""
    env = os.environ.get("CODELENS_DB")
    if env:
        return Path(env)
    local = root / DB_DIRNAME / DB_FILENAME
    if local.exists() or _writable(root / DB_DIRNAME) or (
            not (root / DB_DIRNAME).exists() and _writable(root)):
        return local
    return cached_db_path(root)


def cached_db_path(root: Path) -> Path:
    """Where the index of a root the user cannot write goes."""
    import hashlib

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return Path(cache) / "codelens" / digest / DB_FILENAME


def _writable(folder: Path) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)


def resolve_jobs(jobs: int | None) -> int:
    """``--jobs`` wins over ``CODELENS_JOBS``; 0 means every core."""
    if jobs is None:
        jobs = int(os.environ.get("CODELENS_JOBS", "0") or 0)
    return jobs if jobs > 0 else (os.cpu_count() or 1)
