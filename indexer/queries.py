"""Read-only SQL for people and tools (``codelens query``), status and cache facts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from indexer.errors import QueryError

QUERY_HINT = ("tables: files, asts, tokens, postings, symbol_rows, change_log; views: "
              "file_tokens, symbols, changes, findings")
PROGRESS_STEPS = 10_000  # SQLite instructions between two looks at the clock and signals


def run_query(db_path: Path, sql: str, timeout: float | None = None,
              abandoned: Callable[[], bool] | None = None
              ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` on a read-only connection; returns (column names, rows). See
    ``query_stream`` for the errors."""
    with query_stream(db_path, sql, timeout, abandoned) as (columns, rows):
        return columns, list(rows)


@contextmanager
def query_stream(db_path: Path, sql: str, timeout: float | None = None,
                 abandoned: Callable[[], bool] | None = None
                 ) -> Iterator[tuple[list[str], Iterator[tuple[Any, ...]]]]:
    """(column names, rows as SQLite produces them) of ``sql`` on a read-only connection,
    open while the ``with`` block runs: a result of millions of rows is never held whole.

    SQLite hands control back every few thousand instructions, so Ctrl-C and SIGTERM stop
    even a query that never ends (KeyboardInterrupt), and ``timeout`` seconds bound it
    (QueryError), and so does ``abandoned`` turning true (the one who asked went away).
    QueryError also for invalid SQL or a statement that would write; DatabaseError for a
    missing or unusable database.
    """
    from indexer.store.connection import open_db

    connection = open_db(db_path, readonly=True)
    deadline = time.monotonic() + timeout if timeout else None

    def stop() -> bool:  # a Python callback: pending signals are handled in it, and raise
        return (deadline is not None and time.monotonic() > deadline) or (
            abandoned is not None and abandoned())

    connection.set_progress_handler(stop, PROGRESS_STEPS)
    try:
        cursor = connection.cursor()
        with _translated(db_path, timeout, abandoned):
            cursor.execute(sql)
            columns = _columns(cursor)
        yield columns, _rows(cursor, db_path, timeout, abandoned) if columns else iter(())
    finally:
        connection.close()


def _columns(cursor: Any) -> list[str]:
    import apsw

    try:
        return [name for name, _ in cursor.get_description()]
    except apsw.ExecutionCompleteError:
        return []  # a statement with no result set


def _rows(cursor: Any, db_path: Path, timeout: float | None,
          abandoned: Callable[[], bool] | None) -> Iterator[tuple[Any, ...]]:
    with _translated(db_path, timeout, abandoned):
        yield from cursor


@contextmanager
def _translated(db_path: Path, timeout: float | None,
                abandoned: Callable[[], bool] | None = None) -> Iterator[None]:
    """apsw's errors as errors a user can act on."""
    import apsw

    from indexer.store.connection import database_error

    try:
        yield
    except apsw.InterruptError as exc:
        if abandoned is not None and abandoned():
            raise QueryError("query stopped: the client that asked for it went away") from exc
        raise QueryError(f"query stopped after {timeout:g} s (--timeout)",
                         "narrow the query, or give it more time with --timeout") from exc
    except (apsw.ReadOnlyError, apsw.AuthError) as exc:
        raise QueryError(f"query refused: the index is read-only here ({exc})",
                         "codelens query runs SELECT statements; nothing was changed") from exc
    except apsw.SQLError as exc:
        raise QueryError(f"SQL error: {exc}".replace("SQLError: ", ""), QUERY_HINT) from exc
    except apsw.CantOpenError as exc:  # an ATTACH of a file that is not there
        raise QueryError(f"query refused: {exc}".replace("CantOpenError: ", ""),
                         "codelens query reads the index; ATTACH only existing databases"
                         ) from exc
    except apsw.IOError as exc:  # e.g. a journal mode change on a read-only connection
        raise QueryError(f"query refused: {exc}".replace("IOError: ", ""),
                         "codelens query cannot change the database or its settings") from exc
    except (apsw.CorruptError, apsw.NotADBError, apsw.BusyError) as exc:
        raise database_error(exc, db_path) from exc
    except apsw.Error as exc:
        raise QueryError(f"query failed: {exc}", QUERY_HINT) from exc


def status(db_path: Path) -> dict[str, Any]:
    from indexer.parse.library import native_walker
    from indexer.store.connection import open_db
    from indexer.store.reader import status_facts

    connection = open_db(db_path, readonly=True)
    try:
        facts = status_facts(connection, db_path)
    finally:
        connection.close()
    facts["native_walker"] = native_walker()[1]  # how this process parses: on, or off and why
    return facts


def cache_stats(db_path: Path) -> dict[str, Any]:
    from indexer.store.connection import open_db
    from indexer.store.reader import cache_stats as stats

    connection = open_db(db_path, readonly=True)
    try:
        return stats(connection)
    finally:
        connection.close()


def cache_clear(db_path: Path, older_than_days: float, everything: bool) -> int:
    from indexer.store.connection import open_db, writer_lock
    from indexer.store.reader import clear_cache

    with writer_lock(db_path):
        connection = open_db(db_path)
        try:
            return clear_cache(connection, older_than_days, everything)
        finally:
            connection.close()
