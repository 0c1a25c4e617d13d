"""The record of index runs: what `status` reports and what decides a recheck."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import apsw


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


RUNS_KEPT = 100


def record_run(connection: apsw.Connection, started_at: str, options_hash: str,
               summary: dict[str, Any]) -> None:
    with connection:
        connection.execute(
            "INSERT INTO runs (started_at, finished_at, options_hash, summary) VALUES (?, ?, ?, ?)",
            (started_at, utc_now(), options_hash, json.dumps(summary)))
        connection.execute("DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - ?",
                           (RUNS_KEPT,))
