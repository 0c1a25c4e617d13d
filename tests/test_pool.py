"""The worker pool under faults: real worker processes that crash, hang and get recycled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.parse.worker import FAULT_ENV
from tests.conftest import CliResult, db_rows, index_json

Cli = Callable[..., CliResult]
GOOD = {f"mod{i:02}.py": f"def f{i}():\n    return {i}\n" for i in range(20)}


def statuses(root: Path) -> dict[str, tuple[str, str | None]]:
    return {p: (s, e) for p, s, e in db_rows(root, "SELECT path, status, error FROM files")}


def test_worker_crash_mid_batch_costs_one_file(tree: Callable[..., Path], cli: Cli,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree({**GOOD, "mod10_crash.py": "x = 1\n"})
    monkeypatch.setenv(FAULT_ENV, "crash:mod10_crash.py")
    summary = index_json(cli, root, "--jobs", "2")
    found = statuses(root)
    status, error = found.pop("mod10_crash.py")
    assert status == "failed"
    assert error == "parse worker exited with status 70 (twice; file skipped)"
    assert all(s == ("ok", None) for s in found.values()) and len(found) == 20
    assert summary["pool"]["respawns"] == 2 and summary["files"]["failed"] == 1
    monkeypatch.delenv(FAULT_ENV)
    assert index_json(cli, root)["files"]["parsed"] == 0  # the failure is kept, not retried


def test_crash_once_is_retried_on_a_fresh_worker(tree: Callable[..., Path], cli: Cli,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    root = tree({**GOOD, "flaky.py": "def flaky(): pass\n"})
    monkeypatch.setenv(FAULT_ENV, f"crash-once:flaky.py:{tmp_path / 'crashed'}")
    summary = index_json(cli, root, "--jobs", "2")
    assert statuses(root)["flaky.py"] == ("ok", None)
    assert summary["pool"]["respawns"] == 1 and summary["files"]["parsed"] == 21


def test_hung_worker_is_killed_at_the_timeout(tree: Callable[..., Path], cli: Cli,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree({**GOOD, "slow.py": "x = 1\n"})
    monkeypatch.setenv(FAULT_ENV, "hang:slow.py")
    summary = index_json(cli, root, "--jobs", "2", "--parse-timeout", "0.5")
    assert statuses(root)["slow.py"] == (
        "failed", "parse timed out after 0.5 s (twice; file skipped)")
    assert summary["pool"]["timeouts"] == 2 and summary["files"]["parsed"] == 20


def test_workers_are_recycled_after_n_files(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree(GOOD)
    summary = index_json(cli, root, "--jobs", "2", "--recycle-after", "4")
    # no worker takes more than 4 files: 20 files need at least 5 workers
    assert summary["pool"]["workers"] >= 5 and summary["pool"]["recycles"] >= 3
    assert summary["files"]["parsed"] == 20
    assert summary["pool"]["respawns"] == 0


def test_workers_are_recycled_past_the_rss_ceiling(tree: Callable[..., Path], cli: Cli) -> None:
    files = {f"m{i:03}.py": f"def f{i}():\n    return {i}\n" for i in range(150)}
    root = tree(files)
    summary = index_json(cli, root, "--jobs", "2", "--worker-rss-mb", "1")
    # every worker is over 1 MB after its first file: it finishes what it was sent, then goes
    assert summary["pool"]["recycles"] >= 2 and summary["files"]["parsed"] == 150


def test_in_process_parse_timeout(tree: Callable[..., Path], cli: Cli) -> None:
    root = tree({"huge.py": "x = [" + "1, " * 300_000 + "]\n", "ok.py": "y = 2\n"})
    summary = index_json(cli, root, "--jobs", "1", "--parse-timeout", "0.001",
                         "--max-file-size", str(10 << 20))
    assert statuses(root)["huge.py"] == ("failed", "parse timed out after 0.001 s")
    assert statuses(root)["ok.py"] == ("ok", None) and summary["files"]["failed"] == 1


def test_small_runs_parse_in_process_unless_the_last_one_died(tree: Callable[..., Path],
                                                              cli: Cli) -> None:
    root = tree(GOOD)
    assert index_json(cli, root, "--jobs", "2")["pool"]["workers"] == 2  # 20 files: workers
    (root / "mod00.py").write_text("def changed(): pass\n")
    small = index_json(cli, root, "--jobs", "2")
    assert small["files"]["parsed"] == 1 and small["pool"]["workers"] == 0  # in-process
    marker = root / ".codelens" / "index.db.parsing"
    assert not marker.exists()  # removed when the run completed
    marker.write_text(str(root / "mod01.py"))  # as a process that died mid-parse leaves it
    (root / "mod01.py").write_text("def again(): pass\n")
    isolated = index_json(cli, root, "--jobs", "2")
    assert isolated["files"]["parsed"] == 1 and isolated["pool"]["workers"] >= 1
    assert not marker.exists()


def test_a_cold_run_over_a_large_tree_starts_its_workers_before_the_walk(
        tree: Callable[..., Path], cli: Cli) -> None:
    from indexer import engine

    files: dict[str, str | bytes] = {f"notes/{n}.txt": f"note {n}\n"
                                     for n in range(engine.PRESTART_AT)}
    files.update({f"src/m{n}.py": f"def f{n}():\n    return {n}\n" for n in range(5)})
    root = tree(files)
    summary = index_json(cli, root, "--jobs", "2")
    assert summary["pool"]["workers"] == 2  # 5 files alone would have parsed in-process
    assert summary["files"]["parsed"] == 5 and summary["files"]["added"] == len(files)
    assert {n for (n,) in db_rows(root, "SELECT name FROM symbols")} == {f"f{n}" for n in range(5)}
    (root / "src" / "m0.py").write_text("def changed():\n    pass\n")
    assert index_json(cli, root, "--jobs", "2")["pool"]["workers"] == 0  # not cold: in-process
