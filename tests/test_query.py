"""codelens query: read-only SQL with tables or JSON, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.store.migrate import SCHEMA_VERSION
from tests.conftest import CliResult, db_rows, index_json

Cli = Callable[..., CliResult]


@pytest.fixture
def indexed(tree: Callable[..., Path], cli: Cli) -> Path:
    root = tree({"a.py": "def alpha():\n    pass\n", "b.py": "class Beta:\n    pass\n"})
    index_json(cli, root)
    return root


def test_table_output_is_aligned(indexed: Path, cli: Cli) -> None:
    result = cli("query", "SELECT path, start_line FROM symbols ORDER BY path", "--root", indexed)
    assert result.code == 0
    assert result.out.splitlines() == [
        "path  start_line", "----  ----------", "a.py           1", "b.py           1",
        "(2 rows)"]


def test_json_output_is_rows_as_objects(indexed: Path, cli: Cli) -> None:
    result = cli("query", "SELECT name, kind, NULL AS empty, x'00ff' AS raw FROM symbols"
                 " ORDER BY name", "--root", indexed, "--json")
    assert result.code == 0
    assert json.loads(result.out) == [
        {"name": "Beta", "kind": "class", "empty": None, "raw": "00ff"},
        {"name": "alpha", "kind": "function", "empty": None, "raw": "00ff"}]


@pytest.mark.parametrize("sql", [
    "DELETE FROM files", "INSERT INTO tokens (text) VALUES ('x')", "DROP TABLE files",
    "UPDATE files SET status = 'x'", "CREATE TABLE t (x)", "PRAGMA user_version = 99",
])
def test_writes_are_refused_and_change_nothing(indexed: Path, cli: Cli, sql: str) -> None:
    before = db_rows(indexed, "SELECT count(*), (SELECT count(*) FROM tokens),"
                              " (SELECT group_concat(status) FROM files) FROM files")
    result = cli("query", sql, "--root", indexed)
    assert result.code == 2
    assert "read-only" in result.err
    assert db_rows(indexed, "SELECT count(*), (SELECT count(*) FROM tokens),"
                            " (SELECT group_concat(status) FROM files) FROM files") == before
    assert db_rows(indexed, "PRAGMA user_version")[0][0] == SCHEMA_VERSION


def test_sql_errors_name_the_problem(indexed: Path, cli: Cli) -> None:
    result = cli("query", "SELECT nope FROM files", "--root", indexed)
    assert result.code == 2 and "no such column: nope" in result.err
    result = cli("query", "SELEC 1", "--root", indexed)
    assert result.code == 2 and "syntax error" in result.err


def test_query_without_an_index(tmp_path: Path, cli: Cli) -> None:
    result = cli("query", "SELECT 1", "--root", tmp_path)
    assert result.code == 2 and "no index at" in result.err and "codelens index" in result.err
