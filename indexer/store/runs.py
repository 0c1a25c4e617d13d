"""The record of index runs: what `status` reports and what decides a recheck."""

from __future__ import annotations

import json
import time
from typing import Any

import apsw


def utc_now() -> str:
    """ISO 8601 in UTC with milliseconds, as datetime.isoformat gives it (without importing
    datetime: ~2 ms of a no-op run)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
        f".{int(now % 1 * 1000):03d}+00:00"


RUNS_KEPT = 100


def record_run(connection: apsw.Connection, started_at: str, options_hash: str,
               summary: dict[str, Any], walk_state: dict[str, Any] | None = None) -> None:
    with connection:
        connection.execute(
            "INSERT INTO runs (started_at, finished_at, options_hash, summary, walk_state)"
            " VALUES (?, ?, ?, ?, ?)", (started_at, utc_now(), options_hash, json.dumps(summary),
                                        json.dumps(walk_state) if walk_state else None))
        connection.execute("DELETE FROM runs WHERE id <= (SELECT max(id) FROM runs) - ?",
                           (RUNS_KEPT,))
