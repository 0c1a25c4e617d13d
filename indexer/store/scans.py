"""What a scan reads and writes in the database: the files in scope, their ASTs, the results
cache, the kept reports, and the findings table (indexer/schema/0002_findings.sql is the contract).

Every write is its own short transaction: a scan never needs the indexer's write lock, and
several scans at once only queue on SQLite's busy timeout for the moment they write.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any, NamedTuple

import apsw

FINDING_COLUMNS = "rule_id, path, start_line, start_col, end_line, end_col, message, severity"


class ScanFile(NamedTuple):
    file_id: int
    path: str
    sha256: str
    language: str
    ast_id: int


def scope_clause(prefix: str) -> tuple[str, tuple[str, ...]]:
    """SQL for "path is ``prefix`` or inside it" ("" is everything), as a range of the path
    index: every path under ``a/`` sorts between ``a/`` and ``a0`` ('0' follows '/')."""
    if not prefix:
        return "1", ()
    return "path = ? OR (path >= ? AND path < ?)", (prefix, prefix + "/", prefix + "0")


def files_in_scope(connection: apsw.Connection, scope: list[str]) -> dict[int, ScanFile]:
    """The parsed files under the scope's paths ("" is all of them), by id."""
    prefixes = [s.rstrip("/") for s in scope]
    select = "SELECT id, path, sha256, language, ast_id FROM files WHERE ast_id IS NOT NULL"
    if "" in prefixes:
        return {row[0]: ScanFile(*row) for row in connection.execute(select)}
    found: dict[int, ScanFile] = {}
    for prefix in prefixes:  # a few paths: a range of the path index each
        clause, bindings = scope_clause(prefix)
        for row in connection.execute(f"{select} AND ({clause})", bindings):
            found[row[0]] = ScanFile(*row)
    return found


def ast_blob(connection: apsw.Connection, ast_id: int) -> bytes | None:
    for (blob,) in connection.execute("SELECT blob FROM asts WHERE id = ?", (ast_id,)):
        return bytes(blob)
    return None


def cached_matches(connection: apsw.Connection, rule_hash: str, engine: str,
                   shas: tuple[str, ...]) -> dict[str, list[Any]]:
    """Stored matches of a rule, by content hash, for the contents that have them."""
    rows = connection.execute(
        "SELECT sha256, matches FROM scan_cache WHERE rule_hash = ? AND engine = ?"
        " AND sha256 IN carray(?)", (rule_hash, engine, apsw.carray(shas)))
    return {sha: json.loads(blob) if blob else [] for sha, blob in rows}


def save_matches(connection: apsw.Connection, engine: str,
                 rows: dict[tuple[str, str], list[Any]]) -> None:
    """Store (rule hash, content hash) -> matches; results of other engines go."""
    now = int(time.time())
    with connection:
        connection.execute("DELETE FROM scan_cache WHERE engine != ?", (engine,))
        connection.executemany(
            "INSERT OR REPLACE INTO scan_cache (rule_hash, sha256, engine, matches, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(h, sha, engine, json.dumps(m).encode() if m else b"", now)
             for (h, sha), m in rows.items()])


def store_findings(connection: apsw.Connection, paths: list[str],
                   rows: list[tuple[Any, ...]], generation: int) -> None:
    """Make the findings of ``paths`` be ``rows`` (FINDING_COLUMNS order), rewriting only
    the paths whose findings changed (a re-scan after one edit rewrites one path, not
    thousands of rows)."""
    stored: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in connection.execute(f"SELECT {FINDING_COLUMNS} FROM findings WHERE path IN "
                                  "carray(?)", (apsw.carray(tuple(paths)),)):
        stored[row[1]].append(tuple(row))
    wanted: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        wanted[row[1]].append(row)
    changed = [p for p in stored.keys() | wanted.keys()
               if sorted(stored.get(p, ())) != sorted(wanted.get(p, ()))]
    if not changed:
        return
    with connection:
        connection.executemany("DELETE FROM findings WHERE path = ?", [(p,) for p in changed])
        connection.executemany(
            f"INSERT INTO findings ({FINDING_COLUMNS}, generation) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, generation) for p in changed for row in wanted.get(p, ())])


def clear_findings(connection: apsw.Connection, scope: list[str], kept: set[str]) -> None:
    """No findings for the paths of the scope outside ``kept`` (files gone, or that no rule
    matched this time)."""
    gone: set[str] = set()
    for prefix in (s.rstrip("/") for s in scope):
        where, bindings = scope_clause(prefix)
        gone.update(p for (p,) in connection.execute(
            f"SELECT DISTINCT path FROM findings WHERE {where}", bindings) if p not in kept)
    if gone:
        with connection:
            connection.executemany("DELETE FROM findings WHERE path = ?", [(p,) for p in gone])


class KeptReport:
    """The stored report of one (rule files, scope, options): what a re-scan starts from."""

    def __init__(self, connection: apsw.Connection, key: str, stamp: str) -> None:
        self.connection = connection
        self.key = key
        self.stamp = stamp

    def paths_to_match(self, scope: list[str], use_cache: bool) -> tuple[list[str], bool]:
        """(paths to match, whether that is an incremental update of a kept report): the
        paths changed since the kept report, or the whole scope when there is none usable."""
        from indexer.walk import within

        rows = self.connection.execute(
            "SELECT rules_stamp, generation FROM scan_reports WHERE key = ?", (self.key,))
        state = next(iter(rows), None)
        if not use_cache or state is None or state[0] != self.stamp:
            with self.connection:
                self.connection.execute("DELETE FROM scan_results WHERE key = ?", (self.key,))
            return list(scope), False
        changed = {p for (p,) in self.connection.execute(
            "SELECT DISTINCT path FROM change_log WHERE generation > ?", (state[1],))}
        prefixes = {s.rstrip("/") for s in scope}
        return sorted(p for p in changed if within(p, prefixes)), True

    def begin(self, scope: list[str]) -> None:
        """Before the paths of ``scope`` are matched again: their results go, and so does
        the report itself until ``save`` (a run that stops half-way leaves no report to
        trust, and the next run matches everything)."""
        with self.connection:
            self.connection.execute("DELETE FROM scan_reports WHERE key = ?", (self.key,))
            for prefix in scope:
                clause, bindings = scope_clause(prefix)
                self.connection.execute(f"DELETE FROM scan_results WHERE key = ? AND ({clause})",
                                        (self.key, *bindings))

    def add(self, results: dict[str, str]) -> None:
        """The results (path -> JSON array text) of some paths matched again."""
        with self.connection:
            self.connection.executemany(
                "INSERT OR REPLACE INTO scan_results (key, path, results) VALUES (?, ?, ?)",
                [(self.key, path, text) for path, text in results.items()])

    def errors(self) -> list[dict[str, Any]]:
        """The errors the kept report holds (of files and of matching; a rule's own errors
        are found again on every run)."""
        rows = self.connection.execute("SELECT errors FROM scan_reports WHERE key = ?",
                                       (self.key,))
        found = next(iter(rows), None)
        return json.loads(found[0]) if found and found[0] else []

    def save(self, generation: int, errors: list[dict[str, Any]],
             rules: list[Any]) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT OR REPLACE INTO scan_reports (key, rules_stamp, generation, errors, rules)"
                " VALUES (?, ?, ?, ?, ?)", (self.key, self.stamp, generation,
                                            json.dumps(errors), json.dumps(rules)))

    def results(self) -> tuple[list[bytes], int]:
        """The report's results, one JSON array per path as UTF-8 (never decoded: a report
        can hold millions of findings), and how many there are."""
        chunks = [chunk for (chunk,) in self.connection.execute(
            "SELECT CAST(results AS BLOB) FROM scan_results WHERE key = ? ORDER BY path",
            (self.key,))]
        return chunks, sum(chunk.count(b'"check_id"') for chunk in chunks)
