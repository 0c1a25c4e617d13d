"""The `scan --baseline-commit` row of `make bench`: the corpus as a git repository, one file
edited after the commit, then a baseline scan against a full scan of the same state.

Both scans run with `--no-cache` (each matches what it needs from scratch, as a CI job on a
fresh index does) on an index that is already current, so the figure compares the matching
each does: every candidate file for the full scan, the changed file (and its content at the
commit) for the baseline scan.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

RUNS = 3
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@b"}
ADDED = "\nbench_baseline_new = eval(bench_payload)\n"


def measure(corpus: Path, work: Path, rules: Path, codelens: str) -> dict[str, Any]:
    """Seconds (median of RUNS) of a full scan and of a `--baseline-commit HEAD` scan after a
    one-file edit, and what each reported."""
    repo = work / "baseline-repo"
    shutil.copytree(corpus, repo, symlinks=True)
    env = {**os.environ, **GIT_ENV}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "corpus"]):
        subprocess.run(["git", *argv], cwd=repo, env=env, check=True, capture_output=True)
    edited = _edited_file(repo)
    _run(codelens, ["index", str(repo)])
    edited.write_text(edited.read_text() + ADDED)
    _run(codelens, ["index", str(repo)])  # the same current index for both scans
    out = repo.parent / "baseline-scan.json"
    # typed as "." from the repository: reports say `django/...`, as `expected` below
    scan = ["scan", ".", "--config", str(rules), "--no-cache", "--json", "--output", str(out)]
    full, baseline = [], []
    for _ in range(RUNS):  # taking turns, so that neither gets the quieter moments
        full.append(_run(codelens, scan, cwd=repo))
        full_report = json.loads(out.read_text())
        baseline.append(_run(codelens, [*scan, "--baseline-commit", "HEAD"], cwd=repo))
        baseline_report = json.loads(out.read_text())
    new = [(r["path"], r["start"]["line"]) for r in baseline_report["results"]]
    expected = [(str(edited.relative_to(repo)), len(edited.read_text().splitlines()))]
    assert new == expected, f"baseline scan found {new}, not {expected}"
    return {"full": statistics.median(full), "baseline": statistics.median(baseline),
            "full_findings": len(full_report["results"]), "new_findings": len(new),
            "edited": expected[0][0], "stats": baseline_report["stats"]}


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    ratio = result["full"] / result["baseline"]
    return [("scan --baseline-commit after a one-file edit",
             f"{result['baseline']:.3f} s ({result['new_findings']} new) vs full scan "
             f"{result['full']:.2f} s ({result['full_findings']} findings) = {ratio:.1f}x "
             "faster", ">= 10x", ratio >= 10)]


def _edited_file(repo: Path) -> Path:
    """A Python file of some size that has findings already (so that its content at the
    commit is parsed and matched too)."""
    for path in sorted(repo.rglob("*.py")):
        if path.stat().st_size > 4000 and "json.loads(" in path.read_text(errors="replace"):
            return path
    raise SystemExit("bench: no Python file to edit in the corpus")


def _run(codelens: str, argv: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run([codelens, *argv], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"codelens {' '.join(argv)} failed:\n{done.stderr}")
    return time.perf_counter() - started
