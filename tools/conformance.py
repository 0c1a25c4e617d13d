"""The conformance ratchet: semgrep's own engine tests (../shared/conformance) that pass today
must keep passing.

    python tools/conformance.py update   # after ../shared/conformance/run: record what passes
    python tools/conformance.py check    # run only the recorded tests; exit 1 on a regression

The record is tests/conformance_passing.tsv (suite, rule file, rule id per line). ``check``
runs the harness (score.py, through its adapter and the real `codelens scan`) on exactly those
tests, with the options ../shared/conformance/run uses, and names every one that fails now.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO.parent / "shared" / "conformance"
RECORD = REPO / "tests" / "conformance_passing.tsv"
LANGUAGES = ("python", "javascript", "typescript", "go", "java")
SUITES = [f"{kind}/{lang}" for kind in ("patterns", "rules") for lang in LANGUAGES]


def todo_mode(suite: str) -> str:
    """How the harness counts todo annotations: as ../shared/conformance/run does."""
    return "semgrep" if suite.startswith("rules/") else "ignore"


def passing(results_dir: Path) -> list[tuple[str, str, str]]:
    """(suite, rule file, rule id) of every passing test in a run's JSON details."""
    found = []
    for suite in SUITES:
        details = results_dir / f"{suite.replace('/', '-')}.json"
        if not details.exists():
            raise SystemExit(f"no results for {suite} at {details}: run "
                             "../shared/conformance/run first")
        for rule in json.loads(details.read_text())["rules"]:
            if rule["status"] == "PASS":
                found.append((suite, rule["rule_file"], rule["id"]))
    return sorted(found)


def update(results_dir: Path) -> int:
    rows = passing(results_dir)
    RECORD.write_text("# conformance tests that pass (tools/conformance.py update)\n" +
                      "".join(f"{s}\t{f}\t{i}\n" for s, f, i in rows))
    print(f"recorded {len(rows)} passing tests in {RECORD.relative_to(REPO)}")
    return 0


def recorded() -> dict[str, list[tuple[str, str]]]:
    by_suite: dict[str, list[tuple[str, str]]] = {}
    for line in RECORD.read_text().splitlines():
        if line and not line.startswith("#"):
            suite, rule_file, rule_id = line.split("\t")
            by_suite.setdefault(suite, []).append((rule_file, rule_id))
    return by_suite


def check(codelens: Path, jobs: int, only: str | None = None) -> int:
    """Run the recorded tests (of suite ``only``, or all); print the ones that fail."""
    env = {**os.environ, "CL": str(codelens)}
    regressions: list[str] = []
    with tempfile.TemporaryDirectory(prefix="codelens-conformance-") as scratch:
        for suite, tests in sorted(recorded().items()):
            if only is not None and suite != only:
                continue
            kind, lang = suite.split("/")
            listing = Path(scratch) / f"{kind}-{lang}.list"
            listing.write_text("".join(f"{f}\t{i}\n" for f, i in tests))
            details = Path(scratch) / f"{kind}-{lang}.json"
            subprocess.run(
                [sys.executable, str(HARNESS / "score.py"), str(HARNESS / kind), "--lang", lang,
                 "--rules-list", str(listing), "--todo", todo_mode(suite), "-j", str(jobs),
                 "--cmd", f"{HARNESS / 'adapter'} {{config}} {{targets}}",
                 "--json-out", str(details), "--quiet"],
                env=env, capture_output=True, text=True, check=False)
            if not details.exists():
                regressions.append(f"{suite}: the harness wrote no results")
                continue
            report = json.loads(details.read_text())
            ran = {(r["rule_file"], r["id"]): r for r in report["rules"]}
            for rule_file, rule_id in tests:
                result = ran.get((rule_file, rule_id))
                if result is None or result["status"] != "PASS":
                    why = "not run" if result is None else _why(result)
                    regressions.append(f"{suite}: {rule_file} ({rule_id}): {why}")
            print(f"{suite}: {len(tests)} recorded, "
                  f"{sum(1 for r in regressions if r.startswith(suite + ':'))} failing")
    for line in regressions:
        print("REGRESSION " + line)
    return 1 if regressions else 0


def _why(result: dict[str, object]) -> str:
    parts = [str(result["status"])]
    targets = result.get("targets") or {}
    for target, lines in targets.items():  # type: ignore[attr-defined]
        if lines["missing"] or lines["unexpected"]:
            parts.append(f"{target} missing {lines['missing']} unexpected {lines['unexpected']}")
    parts += [str(e)[:200] for e in result.get("errors") or []]  # type: ignore[attr-defined]
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("update", help="record the passing tests of the last full run")
    up.add_argument("--results", type=Path, default=REPO / ".conformance")
    ch = sub.add_parser("check", help="run the recorded tests, exit 1 on a regression")
    ch.add_argument("--codelens", type=Path, default=Path(sys.executable).parent / "codelens")
    ch.add_argument("--jobs", type=int, default=2)
    ch.add_argument("--suite", choices=SUITES, help="only this suite")
    args = parser.parse_args()
    if not HARNESS.is_dir():
        print(f"no conformance suites at {HARNESS}: nothing to check")
        return 0
    if args.command == "update":
        return update(args.results)
    return check(args.codelens, args.jobs, args.suite)


if __name__ == "__main__":
    raise SystemExit(main())
