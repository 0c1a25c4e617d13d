"""Reads of the index: previous state for change detection, facts for status and cache."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import apsw

from indexer.model import FileStamp
from indexer.store.connection import scalar_int


class StoredFile(NamedTuple):
    stamp: FileStamp
    sha256: str | None
    status: str
    language: str | None
    parser_version: str | None


def load_stamps(connection: apsw.Connection) -> dict[str, tuple[int, int, int]]:
    """path -> (size, mtime_ns, inode) of every stored file: all the no-op path reads."""
    return {row[0]: row[1:] for row in connection.execute(
        "SELECT path, size, mtime_ns, inode FROM files")}


def load_stored(connection: apsw.Connection, paths: list[str]) -> dict[str, StoredFile]:
    """Stamp and parse state of the given stored files."""
    if not paths:
        return {}
    stamp, stored = FileStamp._make, StoredFile._make
    return {
        path: stored((stamp((size, mtime_ns, inode)), sha, status, language, version))
        for path, size, mtime_ns, inode, sha, status, language, version in connection.execute(
            "SELECT f.path, f.size, f.mtime_ns, f.inode, f.sha256, f.status, f.language,"
            " a.parser_version FROM carray(?) c JOIN files f ON f.path = c.value"
            " LEFT JOIN asts a ON a.id = f.ast_id", (apsw.carray(tuple(paths)),))
    }


def indexed_contents(connection: apsw.Connection, paths: list[str]) -> dict[str, tuple[str, int]]:
    """path -> (content SHA-256, generation its row last changed) of the given stored files
    (what an autofix checks a file against before it rewrites it)."""
    return {path: (sha, generation) for path, sha, generation in connection.execute(
        "SELECT f.path, f.sha256, f.generation FROM carray(?) c JOIN files f ON f.path = c.value"
        " WHERE f.sha256 IS NOT NULL", (apsw.carray(tuple(paths)),))} if paths else {}


def stored_languages(connection: apsw.Connection) -> set[str]:
    return {lang for (lang,) in connection.execute(
        "SELECT DISTINCT language FROM files WHERE language IS NOT NULL")}


def current_generation(connection: apsw.Connection) -> int:
    return scalar_int(connection, "SELECT coalesce(max(generation), 0) FROM generations")


def last_options_hash(connection: apsw.Connection) -> tuple[str | None, dict[str, Any] | None]:
    """The options hash and walk state (indexer/schema/0003) the last run recorded."""
    for value, state in connection.execute(
            "SELECT options_hash, walk_state FROM runs ORDER BY id DESC LIMIT 1"):
        return (str(value) if value else None), (json.loads(state) if state else None)
    return None, None


def file_count(connection: apsw.Connection) -> int:
    for (count,) in connection.execute("SELECT count(*) FROM files"):
        return int(count)
    return 0


def last_run(connection: apsw.Connection) -> dict[str, Any] | None:
    for started, finished, summary in connection.execute(
            "SELECT started_at, finished_at, summary FROM runs ORDER BY id DESC LIMIT 1"):
        return {"started_at": started, "finished_at": finished,
                "summary": json.loads(summary) if summary else None}
    return None


def status_facts(connection: apsw.Connection, db_path: Path) -> dict[str, Any]:
    """Files by language and status, failures with reasons, size, last run, generation."""
    one = lambda sql: connection.execute(sql).fetchall()[0][0]  # noqa: E731
    by_language = {lang or "(none)": count for lang, count in connection.execute(
        "SELECT language, count(*) FROM files GROUP BY language ORDER BY count(*) DESC")}
    by_status = dict(connection.execute(
        "SELECT status, count(*) FROM files GROUP BY status ORDER BY count(*) DESC"))
    failures = [{"path": p, "status": s, "error": e} for p, s, e in connection.execute(
        "SELECT path, status, error FROM files WHERE status = 'failed' ORDER BY path")]
    db_bytes = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")
                   if p.is_file() and not p.name.endswith(".lock"))
    return {
        "db": str(db_path),
        "db_bytes": db_bytes,
        "generation": current_generation(connection),
        "files": one("SELECT count(*) FROM files"),
        "by_language": by_language,
        "by_status": by_status,
        "failures": failures,
        "symbols": one("SELECT count(*) FROM symbol_rows"),
        "tokens": one("SELECT count(*) FROM tokens"),
        "last_run": last_run(connection),
    }


def cache_stats(connection: apsw.Connection) -> dict[str, Any]:
    entries, blob_bytes, unreferenced = connection.execute(
        "SELECT count(*), coalesce(sum(length(blob)), 0),"
        " (SELECT count(*) FROM asts WHERE id NOT IN (SELECT ast_id FROM files"
        "  WHERE ast_id IS NOT NULL)) FROM asts").fetchall()[0]
    run = last_run(connection)
    cache = (run or {}).get("summary") or {}
    hits, misses = cache.get("cache", {}).get("hits", 0), cache.get("cache", {}).get("misses", 0)
    return {"entries": entries, "bytes": blob_bytes, "unreferenced": unreferenced,
            "last_run": {"hits": hits, "misses": misses,
                         "hit_ratio": round(hits / (hits + misses), 4) if hits + misses else None}}


def clear_cache(connection: apsw.Connection, older_than_days: float, everything: bool) -> int:
    """Drop ASTs no file uses and unused for the given days; ``everything`` drops all of them.

    Files whose AST is dropped lose their postings and symbols and are re-parsed by the next
    index run (it sees the missing AST). Returns the number of entries removed.
    """
    cutoff = time.time() - older_than_days * 86400
    bindings: tuple[Any, ...] = ()
    with connection:
        if everything:
            connection.execute("DELETE FROM postings")
            connection.execute("DELETE FROM symbol_rows")
            connection.execute("UPDATE files SET ast_id = NULL WHERE ast_id IS NOT NULL")
            connection.execute("UPDATE runs SET options_hash = NULL")  # next run rechecks all
            condition = "1"
        else:
            condition = ("last_used < ? AND id NOT IN"
                         " (SELECT ast_id FROM files WHERE ast_id IS NOT NULL)")
            bindings = (cutoff,)
        connection.execute(f"DELETE FROM asts WHERE {condition}", bindings)
        removed = connection.changes()
        connection.execute("DELETE FROM scan_cache WHERE ? OR created_at < ?",
                           (everything, cutoff))
    return int(removed)
