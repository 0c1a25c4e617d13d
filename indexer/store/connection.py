"""apsw connections: WAL, a busy timeout, and errors that name the database and the fix."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import apsw

from indexer.errors import DatabaseError, LockedError
from indexer.settings import DB_DIRNAME

BUSY_TIMEOUT_MS = 5000
LOCK_POLL = 0.05  # seconds between two tries of a held writer lock


def _make_folder(folder: Path) -> None:
    """The database's folder; one codelens makes (``.codelens/``) gets a ``.gitignore`` of
    ``*``, as ``.pytest_cache/`` does, so that it never shows in ``git status``."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.name == DB_DIRNAME and not (folder / ".gitignore").exists():
        try:
            (folder / ".gitignore").write_text("# made by codelens: its index is not source\n*\n")
        except OSError:
            pass  # a folder we cannot write into fails later, with a clear message


def open_db(path: Path, readonly: bool = False) -> apsw.Connection:
    """Open (and for writers create and migrate) the index; raises DatabaseError."""
    if readonly and not path.exists():
        raise DatabaseError(f"no index at {path}", "run `codelens index` in the project first")
    if not readonly:
        _make_folder(path.parent)
    flags = apsw.SQLITE_OPEN_READONLY if readonly else (
        apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    try:
        connection = apsw.Connection(str(path), flags=flags)
        connection.set_busy_timeout(BUSY_TIMEOUT_MS)
        if readonly:
            connection.execute("PRAGMA query_only = ON")
            connection.execute("PRAGMA cache_size = -1024")  # 1 MiB: readers come and go
            check_readable(connection, path)
        else:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            # statement journals (upserts inside a batch) in memory, not in temporary files:
            # they were ~2% of a cold index
            connection.execute("PRAGMA temp_store = MEMORY")
            from indexer.store.migrate import migrate

            migrate(connection, path)
    except apsw.Error as exc:
        raise database_error(exc, path) from exc
    return connection


def check_readable(connection: apsw.Connection, path: Path) -> None:
    """Touch the schema so a corrupt file fails here with a clear message, not mid-query."""
    from indexer.store.migrate import SCHEMA_VERSION

    version = scalar_int(connection, "PRAGMA user_version")
    if version == 0:
        raise DatabaseError(f"{path} is not a codelens index (schema version 0)",
                            "run `codelens index` to create it, or check --db")
    if version > SCHEMA_VERSION:
        raise newer_schema(path, version)


def newer_schema(path: Path, version: int) -> DatabaseError:
    from indexer.store.migrate import SCHEMA_VERSION

    return DatabaseError(
        f"{path} has schema version {version}, newer than this codelens knows ({SCHEMA_VERSION})",
        "upgrade codelens, or index into another --db")


def database_error(exc: apsw.Error, path: Path) -> DatabaseError:
    """Turn an apsw error into one a user can act on."""
    if isinstance(exc, (apsw.NotADBError, apsw.CorruptError)):
        return DatabaseError(f"{path} is corrupt or not a SQLite database ({exc})",
                             "move it away or delete it, then run `codelens index` to rebuild")
    if isinstance(exc, apsw.BusyError):
        return DatabaseError(f"{path} stayed locked by another process for "
                             f"{BUSY_TIMEOUT_MS // 1000} s ({exc})", "retry when it is done")
    if isinstance(exc, (apsw.CantOpenError, apsw.ReadOnlyError, apsw.PermissionsError)):
        return DatabaseError(f"cannot open {path} ({exc})",
                             "check the path and its permissions, or pass --db")
    return DatabaseError(f"{path}: {exc}")


@contextlib.contextmanager
def writer_lock(db_path: Path, wait: float = 0.0,
                waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the one-writer lock of an index. If another process has it, wait for it up to
    ``wait`` seconds (telling ``waiting`` once, with the holder's pid), then raise
    LockedError."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    _make_folder(lock_path.parent)
    handle = open(lock_path, "a+")
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise LockedError(
                        f"{db_path} is being written by pid {holder}" +
                        (f" (waited {wait:g} s)" if wait else ""),
                        "wait for that run to finish (or stop it), then retry; "
                        "--lock-timeout waits longer") from None
                if waiting is not None and not told:
                    waiting(f"waiting for pid {holder}, which is writing {db_path}")
                    told = True
                time.sleep(LOCK_POLL)  # until the holder lets go: a lock has no wake-up
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock, also when the process is killed


def scalar_int(connection: apsw.Connection, sql: str, bindings: Any = ()) -> int:
    """The integer in the first column of the first row of ``sql``."""
    value = connection.execute(sql, bindings).fetchall()[0][0]
    if not isinstance(value, int):
        raise TypeError(f"expected an integer from {sql!r}, got {value!r}")
    return value
