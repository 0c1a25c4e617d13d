"""Forward-only migrations from indexer/schema/NNNN_*.sql, each committed with its user_version."""

from __future__ import annotations

import re
from pathlib import Path

import apsw

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schema"  # package data
# 1: files, asts, tokens/postings, symbols, generations/change_log, runs; views for tools
# 2: findings, scan_cache
# 3: runs.walk_state (the no-op fast path)
SCHEMA_VERSION = 3


def migration_files() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        match = re.match(r"(\d+)_", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def migrate(connection: apsw.Connection, db_path: Path) -> int:
    """Bring the schema up to SCHEMA_VERSION; returns the version found before."""
    from indexer.store.connection import newer_schema, scalar_int

    before = scalar_int(connection, "PRAGMA user_version")
    if before > SCHEMA_VERSION:
        raise newer_schema(db_path, before)
    if before == SCHEMA_VERSION:
        return before
    for version, path in migration_files():
        if before < version <= SCHEMA_VERSION:
            with connection:  # a savepoint: the migration and its version commit together
                connection.execute(path.read_text())
                connection.execute(f"PRAGMA user_version = {version}")
    return before
