"""Batched writes of an index run: one transaction, one generation, per batch.

Only the parent process writes. Rows are queued in memory and committed every ``batch_files``
files or ``batch_seconds``; an interrupted run keeps every committed batch, and the next run
finds the rest by their stamps. Postings and symbols are inserted set-wise by SQLite from JSON
(``json_each``), not row by row from Python.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from array import array
from typing import Any, NamedTuple

import apsw

from indexer import codec
from indexer.model import FileStamp, ParseResult
from indexer.store import tokenids
from indexer.store.reader import current_generation
from indexer.store.runs import utc_now
from indexer.tokens import token_text


class FileRow(NamedTuple):
    path: str
    language: str | None
    stamp: FileStamp
    sha256: str | None
    status: str
    error: str | None


class _Pending:
    __slots__ = ("rows", "stamps", "deleted")

    def __init__(self) -> None:
        self.rows: list[tuple[FileRow, int | None, ParseResult | None]] = []
        self.stamps: list[tuple[str, FileStamp]] = []  # touched, content unchanged
        self.deleted: list[str] = []


class IndexWriter:
    """Queues file outcomes and commits them in batches, each as a new generation."""

    # measured on the benchmark corpus with 2 workers: batches of 2000 files and a WAL allowed
    # to grow to 64 MB between checkpoints cut the parent's CPU by ~25% against 500 and 4 MB
    WAL_PAGES_BETWEEN_CHECKPOINTS = 16384

    def __init__(self, connection: apsw.Connection, batch_files: int = 2000,
                 batch_seconds: float = 2.0) -> None:
        self.connection = connection
        self.background = False  # see commit_in_background
        self._committing: threading.Thread | None = None
        self._commit_error: BaseException | None = None
        self._committing_asts: dict[tuple[str, str], ParseResult] = {}
        # lookups while a batch commits go through their own connection (WAL: committed data,
        # no waiting for the writer); the batch in flight is in _committing_asts
        self.reads: apsw.Connection | None = None
        self._known_asts: dict[tuple[str, str], tuple[int, str | None]] | None = None
        connection.execute(f"PRAGMA wal_autocheckpoint = {self.WAL_PAGES_BETWEEN_CHECKPOINTS}")
        self.batch_files = batch_files
        self.batch_seconds = batch_seconds
        self.generation = current_generation(connection)
        self.committed_generations = 0
        self._pending = _Pending()
        self._last_commit = time.monotonic()
        self._previous = {path: (file_id, ast_id) for path, file_id, ast_id in connection.execute(
            "SELECT path, id, ast_id FROM files")}
        self._tokens = tokenids.TokenIds()  # filled per batch, only with the tokens it needs
        # ASTs stored by this run: identical files parsed once share them
        self._stored: dict[tuple[str, str], tuple[int, tuple[bytes, list[Any]]]] = {}
        self._pending_asts: dict[tuple[str, str], ParseResult] = {}  # parsed, not committed

    def cached_ast(self, sha256: str,
                   parser_version: str) -> tuple[int | None, ParseResult | None, str | None] | None:
        """A stored AST for this content and parser, if any: (id, None, syntax error), or
        (None, result, syntax error) for one parsed by this run but not committed yet."""
        key = (sha256, parser_version)
        waiting = self._pending_asts.get(key) or self._committing_asts.get(key)
        if waiting is not None:
            return None, waiting, waiting.error or None
        if self._known_asts is not None:
            known = self._known_asts.get(key)
            return None if known is None else (known[0], None, known[1])
        for ast_id, parse_error in (self.reads or self.connection).execute(
                "SELECT id, parse_error FROM asts WHERE sha256 = ? AND parser_version = ?",
                (sha256, parser_version)):
            return int(ast_id), None, parse_error
        return None

    def commit_in_background(self, reads: apsw.Connection) -> None:
        """With parse workers, a batch commits on a thread while the caller keeps them fed:
        committing in line left both workers idle for each commit (~0.5 s per 2000 files).
        ``reads``, a read-only connection to the same database, serves ``cached_ast``
        meanwhile (this writer's own connection is busy); ``close`` closes it."""
        self.background = True
        self.reads = reads

    def close(self) -> None:
        """After the run, or a failure in it: let a batch still committing end (its error is
        the caller's to have seen already), and close the read connection."""
        if self.background:
            self.background = False
            with contextlib.suppress(Exception):
                self.join()
        if self.reads is not None:
            self.reads.close()
            self.reads = None

    def preload_asts(self) -> None:
        """Read every stored AST's key once, for a run with many files to look up: one query
        per file was ~7% of the parent's time on a cold run."""
        self._known_asts = {(sha, version): (int(ast_id), error) for sha, version, ast_id, error
                            in self.connection.execute(
                                "SELECT sha256, parser_version, id, parse_error FROM asts")}

    def put(self, row: FileRow, ast_id: int | None = None,
            parsed: ParseResult | None = None) -> None:
        """Record a file's new state: a cached AST, a fresh parse result, or neither."""
        self._pending.rows.append((row, ast_id, parsed))
        if parsed is not None:
            self._pending_asts[(parsed.sha256, parsed.parser_version)] = parsed
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
            if self._committing is not None and self._committing.is_alive():
                return  # the batch before is still committing: this one grows meanwhile
            self.commit(wait=not self.background)

    def commit(self, wait: bool = True) -> None:
        """Write everything queued in one transaction; a batch with changes is a generation.
        Batches commit one at a time, in order; with ``wait`` this returns when all are
        committed. A failed background commit raises here, at the next commit or ``join``."""
        self.join()
        pending, self._pending = self._pending, _Pending()
        self._committing_asts, self._pending_asts = self._pending_asts, {}
        self._last_commit = time.monotonic()
        if not (pending.rows or pending.stamps or pending.deleted):
            return
        if wait:
            self._commit(pending)
            return
        self._committing = threading.Thread(target=self._commit_quietly, args=(pending,),
                                            name="codelens-commit", daemon=True)
        self._committing.start()

    def join(self) -> None:
        """Wait for a background commit; raise what it raised."""
        if self._committing is not None:
            self._committing.join()
            self._committing = None
        error, self._commit_error = self._commit_error, None
        if error is not None:
            raise error

    def _commit_quietly(self, pending: _Pending) -> None:
        try:
            self._commit(pending)
            # copy the batch into the database file now, while workers parse, rather than
            # all 30 MB of a cold run in the checkpoint at close, when nothing else runs
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except BaseException as exc:  # handed to the thread that waits for it
            self._commit_error = exc

    def _commit(self, pending: _Pending) -> None:
        changed = bool(pending.rows or pending.deleted)
        generation = self.generation + 1 if changed else self.generation
        with self.connection:
            self.connection.executemany(
                "UPDATE files SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?",
                [(st.size, st.mtime_ns, st.inode, path) for path, st in pending.stamps])
            if changed:
                self._write_batch(pending, generation)
        if changed:
            self.generation = generation
            self.committed_generations += 1

    def _write_batch(self, pending: _Pending, generation: int) -> None:
        now = int(time.time())
        self._assign_token_ids([parsed.tokens for _, _, parsed in pending.rows if parsed])
        removed, added = array("q"), array("q")  # postings as token_id << 32 | file_id
        forgotten: list[int] = []  # file ids whose symbols go
        symbols: list[list[Any]] = []  # [file_id, name, kind, start_line, end_line]
        for row, ast_id, parsed in pending.rows:
            facts: tuple[bytes, list[Any]] = (b"", [])
            if parsed is not None:
                ast_id, facts = self._store_ast(row, parsed, now)
            elif ast_id is not None:
                self.connection.execute("UPDATE asts SET last_used = ? WHERE id = ?", (now, ast_id))
                facts = self._facts(ast_id)
            removed.frombytes(self._forget(row.path, generation, forgotten, deleting=False))
            file_id = self._write_file(row, ast_id, generation)
            added.frombytes(self._tokens.postings(facts[0], file_id))
            symbols.extend([file_id, *symbol] for symbol in facts[1])
        for path in pending.deleted:
            removed.frombytes(self._forget(path, generation, forgotten, deleting=True))
        self._apply_postings(removed, added)
        self._apply_symbols(forgotten, symbols)
        self.connection.execute("INSERT INTO generations (generation, committed_at) VALUES (?, ?)",
                                (generation, utc_now()))

    def _assign_token_ids(self, joined: list[bytes]) -> None:
        """Give every token of these files an id (one query for the ones new to the run)."""
        new = [token for tokens in joined for token in self._tokens.learn(tokens)]
        if not new:
            return
        texts = [token_text(token) for token in new]
        values = apsw.carray(tuple(set(texts)))
        self.connection.execute("INSERT INTO tokens (text) SELECT value FROM carray(?) WHERE true"
                                " ON CONFLICT (text) DO NOTHING", (values,))
        ids = dict((text, token_id) for token_id, text in self.connection.execute(
            "SELECT t.id, t.text FROM carray(?) c JOIN tokens t ON t.text = c.value", (values,)))
        self._tokens.assign(new, [ids[text] for text in texts])

    def _facts(self, ast_id: int) -> tuple[bytes, list[Any]]:
        """(token ids as int64 bytes, symbols) of a stored AST."""
        for (blob,) in self.connection.execute("SELECT facts FROM asts WHERE id = ?", (ast_id,)):
            ids, symbols = codec.decode_facts(blob)
            return tokenids.from_list(ids), symbols
        return b"", []

    def _store_ast(self, row: FileRow, parsed: ParseResult,
                   now: int) -> tuple[int, tuple[bytes, list[Any]]]:
        """Insert a parse result's AST once per run (identical files share the result)."""
        key = (parsed.sha256, parsed.parser_version)
        if key in self._stored:
            return self._stored[key]
        ids = self._tokens.ids(parsed.tokens)
        facts = codec.encode_facts_packed(self._tokens.deltas(ids), parsed.symbols)
        ast_id = _first_int(self.connection.execute(
            "INSERT INTO asts (sha256, parser_version, language, blob, node_count, parse_error,"
            " facts, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256, parser_version) DO UPDATE SET blob = excluded.blob,"
            " node_count = excluded.node_count, parse_error = excluded.parse_error,"
            " facts = excluded.facts, last_used = excluded.last_used RETURNING id",
            (parsed.sha256, parsed.parser_version, row.language, parsed.blob, parsed.node_count,
             parsed.error or None, facts, now, now)))
        self._stored[key] = ast_id, (ids, [list(s) for s in parsed.symbols])
        if self._known_asts is not None:  # batches commit in order: later rows may use it
            self._known_asts[key] = (ast_id, parsed.error or None)
        return self._stored[key]

    def _write_file(self, row: FileRow, ast_id: int | None, generation: int) -> int:
        execute = self.connection.execute
        change = "modified" if row.path in self._previous else "added"
        file_id = _first_int(execute(
            "INSERT INTO files (path, language, size, mtime_ns, inode, sha256, status, error,"
            " ast_id, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (path) DO UPDATE SET language = excluded.language,"
            " size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode,"
            " sha256 = excluded.sha256, status = excluded.status, error = excluded.error,"
            " ast_id = excluded.ast_id, generation = excluded.generation RETURNING id",
            (row.path, row.language, row.stamp.size, row.stamp.mtime_ns, row.stamp.inode,
             row.sha256, row.status, row.error, ast_id, generation)))
        self._previous[row.path] = (file_id, ast_id)
        execute("INSERT INTO change_log (generation, path, change) VALUES (?, ?, ?)",
                (generation, row.path, change))
        return file_id

    def _forget(self, path: str, generation: int, forgotten: list[int],
                deleting: bool) -> bytes:
        """Note a file's symbols for removal (and with ``deleting`` drop its row, leaving a
        tombstone); returns its postings for the caller to remove with the batch."""
        previous = self._previous.get(path)
        if previous is None:
            return b""
        file_id, ast_id = previous
        forgotten.append(file_id)
        if deleting:
            del self._previous[path]
            self.connection.execute("DELETE FROM files WHERE id = ?", (file_id,))
            self.connection.execute(
                "INSERT INTO change_log (generation, path, change) VALUES (?, ?, 'deleted')",
                (generation, path))
        return self._tokens.postings(self._facts(ast_id)[0], file_id) if ast_id is not None else b""

    def _apply_postings(self, removed: array[int], added: array[int]) -> None:
        """Sorted bulk delete then insert: B-tree pages are visited in order, once a batch."""
        if removed:
            self.connection.execute(
                "DELETE FROM postings WHERE (token_id, file_id) IN"
                " (SELECT value >> 32, value & 4294967295 FROM carray(?))",
                (apsw.carray(_int64s(self._tokens.sort_unique(removed.tobytes()))),))
        if added:
            self.connection.execute(
                "INSERT OR IGNORE INTO postings (token_id, file_id)"
                " SELECT value >> 32, value & 4294967295 FROM carray(?)",
                (apsw.carray(_int64s(self._tokens.sort_unique(added.tobytes()))),))


    def _apply_symbols(self, forgotten: list[int], symbols: list[list[Any]]) -> None:
        if forgotten:
            self.connection.execute("DELETE FROM symbol_rows WHERE file_id IN carray(?)",
                                    (apsw.carray(array("q", forgotten)),))
        if symbols:
            self.connection.execute(
                "INSERT INTO symbol_rows (file_id, name, kind, start_line, end_line)"
                " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4"
                " FROM json_each(?)", (json.dumps(symbols),))


def _first_int(cursor: apsw.Cursor) -> int:
    value = cursor.fetchall()[0][0]
    assert isinstance(value, int)
    return value


def _int64s(values: bytes) -> array[int]:
    found = array("q")
    found.frombytes(values)
    return found
