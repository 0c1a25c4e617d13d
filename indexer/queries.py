"""Read-only SQL for people and tools (``codelens query``), status and cache facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from indexer.errors import QueryError


def run_query(db_path: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` on a read-only connection; returns (column names, rows).

    Raises QueryError for invalid SQL or a statement that would write, DatabaseError for a
    missing or unusable database.
    """
    import apsw

    from indexer.store.connection import database_error, open_db

    connection = open_db(db_path, readonly=True)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql)
            try:
                columns = [name for name, _ in cursor.get_description()]
            except apsw.ExecutionCompleteError:
                return [], []  # a statement with no result set
            return columns, list(cursor)
        except (apsw.ReadOnlyError, apsw.AuthError) as exc:
            raise QueryError(f"query refused: the index is read-only here ({exc})",
                             "codelens query runs SELECT statements; nothing was changed") from exc
        except apsw.SQLError as exc:
            raise QueryError(f"SQL error: {exc}".replace("SQLError: ", ""),
                             "tables: files, asts, tokens, postings, symbol_rows, change_log;"
                             " views: file_tokens, symbols, changes") from exc
        except (apsw.CorruptError, apsw.NotADBError, apsw.BusyError) as exc:
            raise database_error(exc, db_path) from exc
    finally:
        connection.close()


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
