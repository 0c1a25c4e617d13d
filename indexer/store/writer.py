"""Batched writes of an index run: one transaction, one generation, per batch.

Only the parent process writes. Rows are queued in memory and committed every ``batch_files``
files or ``batch_seconds``; an interrupted run keeps every committed batch, and the next run
finds the rest by their stamps. Postings and symbols are inserted set-wise by SQLite from JSON
(``json_each``), not row by row from Python.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import apsw

from indexer.model import FileStamp, ParseResult


@dataclass(frozen=True, slots=True)
class FileRow:
    path: str
    language: str | None
    stamp: FileStamp
    sha256: str | None
    status: str
    error: str | None


@dataclass
class _Pending:
    rows: list[tuple[FileRow, int | None, ParseResult | None]] = field(default_factory=list)
    stamps: list[tuple[str, FileStamp]] = field(default_factory=list)  # touched, unchanged
    deleted: list[str] = field(default_factory=list)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class IndexWriter:
    """Queues file outcomes and commits them in batches, each as a new generation."""

    def __init__(self, connection: apsw.Connection, batch_files: int = 500,
                 batch_seconds: float = 1.0) -> None:
        self.connection = connection
        self.batch_files = batch_files
        self.batch_seconds = batch_seconds
        self.generation = self._current_generation()
        self.committed_generations = 0
        self._pending = _Pending()
        self._last_commit = time.monotonic()
        self._previous = {path: (file_id, ast_id) for path, file_id, ast_id in connection.execute(
            "SELECT path, id, ast_id FROM files")}

    def _current_generation(self) -> int:
        return self.connection.execute(
            "SELECT coalesce(max(generation), 0) FROM generations").fetchall()[0][0]

    def cached_ast(self, sha256: str, parser_version: str) -> tuple[int, str | None] | None:
        """(id, syntax error or None) of a stored AST for this content and parser, if any."""
        for ast_id, parse_error in self.connection.execute(
                "SELECT id, parse_error FROM asts WHERE sha256 = ? AND parser_version = ?",
                (sha256, parser_version)):
            return int(ast_id), parse_error
        return None

    def put(self, row: FileRow, ast_id: int | None = None,
            parsed: ParseResult | None = None) -> None:
        """Record a file's new state: a cached AST, a fresh parse result, or neither."""
        self._pending.rows.append((row, ast_id, parsed))
        self._maybe_commit()

    def touch(self, path: str, stamp: FileStamp) -> None:
        """A file whose stat changed but whose content did not: keep it on the fast path."""
        self._pending.stamps.append((path, stamp))

    def delete(self, path: str) -> None:
        self._pending.deleted.append(path)
        self._maybe_commit()

    def _maybe_commit(self) -> None:
        queued = len(self._pending.rows) + len(self._pending.deleted)
        if queued >= self.batch_files or (
                queued and time.monotonic() - self._last_commit >= self.batch_seconds):
            self.commit()

    def commit(self) -> None:
        """Write everything queued in one transaction; a batch with changes is a generation."""
        pending, self._pending = self._pending, _Pending()
        self._last_commit = time.monotonic()
        if not (pending.rows or pending.stamps or pending.deleted):
            return
        with self.connection:
            changed = bool(pending.rows or pending.deleted)
            generation = self.generation + 1 if changed else self.generation
            now = int(time.time())
            for path, stamp in pending.stamps:
                self.connection.execute(
                    "UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?",
                    (stamp.size, stamp.mtime_ns, stamp.inode, path))
            for row, ast_id, parsed in pending.rows:
                if parsed is not None:
                    ast_id = self._store_ast(row, parsed, now)
                elif ast_id is not None:
                    self.connection.execute("UPDATE asts SET last_used = ? WHERE id = ?",
                                            (now, ast_id))
                self._write_file(row, ast_id, generation)
            for path in pending.deleted:
                self._delete_file(path, generation)
            if changed:
                self.connection.execute(
                    "INSERT INTO generations (generation, committed_at) VALUES (?, ?)",
                    (generation, utc_now()))
        if changed:
            self.generation = generation
            self.committed_generations += 1

    def _store_ast(self, row: FileRow, parsed: ParseResult, now: int) -> int:
        execute = self.connection.execute
        tokens = json.dumps(parsed.tokens)
        execute("INSERT OR IGNORE INTO tokens (text) SELECT value FROM json_each(?)", (tokens,))
        token_ids = execute(
            "SELECT json_group_array(t.id) FROM json_each(?) j JOIN tokens t ON t.text = j.value",
            (tokens,)).fetchall()[0][0]
        return int(execute(
            "INSERT INTO asts (sha256, parser_version, language, blob, node_count, parse_error,"
            " token_ids, symbols, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256, parser_version) DO UPDATE SET blob = excluded.blob,"
            " node_count = excluded.node_count, parse_error = excluded.parse_error,"
            " token_ids = excluded.token_ids, symbols = excluded.symbols,"
            " last_used = excluded.last_used RETURNING id",
            (parsed.sha256, parsed.parser_version, row.language, parsed.blob, parsed.node_count,
             parsed.error or None, token_ids, json.dumps(parsed.symbols), now, now)
        ).fetchall()[0][0])

    def _write_file(self, row: FileRow, ast_id: int | None, generation: int) -> None:
        execute = self.connection.execute
        previous = self._previous.get(row.path)
        if previous is not None:
            self._drop_derived(*previous)
        file_id = execute(
            "INSERT INTO files (path, language, size, mtime_ns, inode, sha256, status, error,"
            " ast_id, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (path) DO UPDATE SET language = excluded.language,"
            " size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode,"
            " sha256 = excluded.sha256, status = excluded.status, error = excluded.error,"
            " ast_id = excluded.ast_id, generation = excluded.generation RETURNING id",
            (row.path, row.language, row.stamp.size, row.stamp.mtime_ns, row.stamp.inode,
             row.sha256, row.status, row.error, ast_id, generation)).fetchall()[0][0]
        self._previous[row.path] = (file_id, ast_id)
        if ast_id is not None:
            execute("INSERT INTO postings (token_id, file_id) SELECT value, ?1 FROM json_each("
                    "(SELECT token_ids FROM asts WHERE id = ?2))", (file_id, ast_id))
            execute("INSERT INTO symbol_rows (file_id, name, kind, start_line, end_line)"
                    " SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3"
                    " FROM json_each((SELECT symbols FROM asts WHERE id = ?2))", (file_id, ast_id))
        change = "modified" if previous is not None else "added"
        execute("INSERT INTO change_log (generation, path, change) VALUES (?, ?, ?)",
                (generation, row.path, change))

    def _drop_derived(self, file_id: int, ast_id: int | None) -> None:
        """Remove a file's postings and symbols (before rewriting or deleting it)."""
        if ast_id is None:
            return
        self.connection.execute(
            "DELETE FROM postings WHERE file_id = ?1 AND token_id IN"
            " (SELECT value FROM json_each((SELECT token_ids FROM asts WHERE id = ?2)))",
            (file_id, ast_id))
        self.connection.execute("DELETE FROM symbol_rows WHERE file_id = ?", (file_id,))

    def _delete_file(self, path: str, generation: int) -> None:
        previous = self._previous.pop(path, None)
        if previous is None:
            return
        self._drop_derived(*previous)
        self.connection.execute("DELETE FROM files WHERE id = ?", (previous[0],))
        self.connection.execute(
            "INSERT INTO change_log (generation, path, change) VALUES (?, ?, 'deleted')",
            (generation, path))


RUNS_KEPT = 100


def record_run(connection: apsw.Connection, started_at: str, summary: dict[str, Any]) -> None:
    with connection:
        connection.execute("INSERT INTO runs (started_at, finished_at, summary) VALUES (?, ?, ?)",
                           (started_at, utc_now(), json.dumps(summary)))
        connection.execute("DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - ?",
                           (RUNS_KEPT,))
