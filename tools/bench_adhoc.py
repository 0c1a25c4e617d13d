"""The ad-hoc search row of `make bench`: one pattern, no rule file, over the corpus's Python
files: `codelens scan -e` (index current, nothing cached: a new pattern each time, as when
someone searches) against `ast-grep run -p` and `semgrep -e`, each the median of RUNS.

The pattern is written the same way in all three syntaxes, so the three count the same code.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

RUNS = 3
PATTERN = "isinstance($X, str)"


def measure(root: Path, db: Path, codelens: str, peers: Path) -> dict[str, Any]:
    """Seconds and findings of each tool on PATTERN over ``root``'s Python files."""
    ours = ["scan", ".", "--root", ".", "--db", str(db), "-e", PATTERN, "-l", "python",
            "--json", "--no-cache"]
    semgrep = ["scan", "-e", PATTERN, "-l", "python", "--json", "--metrics=off",
               "--disable-version-check", "--x-ignore-semgrepignore-files", "--no-git-ignore",
               "-j", "2", "."]
    astgrep = ["run", "-p", PATTERN, "-l", "python", "--json=compact", "-j", "2", "."]
    runs: dict[str, list[float]] = {"codelens": [], "semgrep": [], "ast_grep": []}
    found: dict[str, int] = {}
    for _ in range(RUNS):  # taking turns, so that none gets the quieter moments
        for name, argv in (("codelens", [codelens, *ours]),
                           ("semgrep", [str(peers / "semgrep"), *semgrep]),
                           ("ast_grep", [str(peers / "ast-grep"), *astgrep])):
            seconds, output = _timed(argv, root)
            runs[name].append(seconds)
            found[name] = _count(name, output)
    return {name: {"wall": statistics.median(times), "findings": found[name]}
            for name, times in runs.items()} | {"pattern": PATTERN}


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    ours, semgrep, astgrep = result["codelens"], result["semgrep"], result["ast_grep"]
    return [(f"ad-hoc search -e '{result['pattern']}' -l python",
             f"{ours['wall']:.2f} s ({ours['findings']} found) vs ast-grep run -p "
             f"{astgrep['wall']:.2f} s ({astgrep['findings']}), semgrep -e "
             f"{semgrep['wall']:.2f} s ({semgrep['findings']})",
             "faster than semgrep", ours["wall"] < semgrep["wall"])]


def _timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(argv[:3])} failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def _count(name: str, output: str) -> int:
    if name == "ast_grep":
        return len(json.loads(output or "[]"))
    return len(json.loads(output)["results"])
