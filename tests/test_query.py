"""codelens query: read-only SQL with tables or JSON, and clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.store.migrate import SCHEMA_VERSION
from tests.conftest import REPO, CliResult, db_rows, index_json, wait_until

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


ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_query_that_never_ends_stops_on_a_signal(indexed: Path, sig: signal.Signals) -> None:
    db = indexed / ".codelens" / "index.db"
    process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "query", ENDLESS, "--root",
                                str(indexed)], stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        # once it holds the database open, the query is running or about to
        wait_until(lambda: any(os.path.realpath(f"/proc/{process.pid}/fd/{fd}") == str(db)
                               for fd in os.listdir(f"/proc/{process.pid}/fd")))
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130 and err.strip() == "codelens: interrupted"


def test_timeout_bounds_a_query(indexed: Path, cli: Cli) -> None:
    result = cli("query", ENDLESS, "--root", indexed, "--timeout", "0.2")
    assert result.code == 2 and "query stopped after 0.2 s (--timeout)" in result.err


@pytest.mark.parametrize("sql", ["ATTACH '/nonexistent/other.db' AS other",
                                 "PRAGMA journal_mode = delete"])
def test_statements_outside_reading_are_refused_in_one_line(indexed: Path, cli: Cli,
                                                            sql: str) -> None:
    result = cli("query", sql, "--root", indexed)
    assert result.code == 2 and result.err.startswith("codelens: query refused")
    assert "Traceback" not in result.err
    assert db_rows(indexed, "PRAGMA journal_mode") == [("wal",)]


def test_long_results_stream_in_both_formats(indexed: Path, cli: Cli) -> None:
    sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2500) "
           "SELECT x, 'row ' || x AS label FROM c")
    rows = cli("query", sql, "--root", indexed, "--json")
    assert rows.code == 0 and len(rows.json()) == 2500
    assert rows.out.rstrip("\n") == json.dumps(rows.json(), indent=2)
    table = cli("query", sql, "--root", indexed).out.splitlines()
    assert table[0].split() == ["x", "label"] and table[-1] == "(2500 rows)"
    assert table[2].split() == ["1", "row", "1"] and table[-2].split() == ["2500", "row", "2500"]
    empty = cli("query", "SELECT path FROM files WHERE 0", "--root", indexed, "--json")
    assert empty.out.strip() == "[]"
