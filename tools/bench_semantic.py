"""Bench rows of the semantic matcher (used by tools/bench.py):

- the conformance suites' own Python and JavaScript rules (../shared/conformance/rules, the
  ones not in taint mode), all together over the corpus, against semgrep on the same rules
  and files: full scan, re-scan after a one-file edit, agreement on (rule, file, line);
- where a full scan's time goes: decoding, converting to the normalized tree, matching, the
  per-file facts, the database, measured by a profile of one in-process scan.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import yaml

SEMGREP_LIMIT_S = 1800  # then the figure is a lower bound: semgrep did not finish
SAMPLE_EVERY = 10  # the sample semgrep's agreement is measured on: one file in ten
SUITES = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "rules"
STAGES = {  # module path fragment -> stage
    "codec.py": "decode the AST blob", "match/tree.py": "decode the AST blob",
    "match/lang/": "convert to the normalized tree", "match/node.py": "match",
    "match/matcher.py": "match", "match/sequences.py": "match", "match/statements.py": "match",
    "match/equiv.py": "match", "match/operators.py": "match", "match/subnodes.py": "match",
    "match/import_patterns.py": "match", "match/search.py": "match (candidates)",
    "match/facts.py": "per-file facts", "match/constants.py": "per-file facts",
    "match/dataflow.py": "per-file facts", "match/folding.py": "per-file facts",
    "match/written.py": "per-file facts", "match/naming.py": "per-file facts",
    "match/formula.py": "rule formula", "match/evaluate.py": "rule formula",
    "match/pattern.py": "compile patterns", "store/": "database", "prefilter/": "prefilter",
    "apsw": "database", "scan.py": "scan stage (results, JSON)", "orjson": "scan stage",
}


def conformance_rules(folder: Path) -> Path:
    """The non-taint Python and JavaScript rule files of the suites, ids made unique (the
    suites reuse ids such as `test`) and free of dots (semgrep prefixes an id with the
    config's folders, joined by dots): ``<file stem>__<id>``."""
    folder.mkdir(parents=True, exist_ok=True)
    for language in ("python", "javascript"):
        for path in sorted((SUITES / language).glob("*.yaml")):
            document = yaml.safe_load(path.read_text())
            rules = [r for r in document.get("rules", []) if isinstance(r, dict) and
                     r.get("mode") != "taint" and "pattern-sources" not in r]
            for rule in rules:
                rule["id"] = f"{path.stem}__{rule['id']}".replace(".", "_")
                rule.pop("paths", None)
                for key in [k for k, v in rule.items() if v is None]:  # `metadata:` alone
                    del rule[key]  # (written back it would be `null`, which semgrep refuses)
            if rules:
                (folder / f"{language}-{path.stem}.yaml").write_text(
                    yaml.safe_dump({"rules": rules}, sort_keys=False))
    return folder


def measure_conformance_rules(root: Path, work: Path, db: Path, codelens: str, triples: Any,
                              agreement: Any, semgrep: Path) -> dict[str, Any]:
    """codelens and semgrep on the suites' rules over the corpus; ``triples`` and
    ``agreement`` are bench.py's helpers. The reports hold millions of findings: codelens's
    (rule, file, line) come from its findings table and semgrep's report is read once it
    has exited, so that the two never sit in memory together."""
    if not SUITES.is_dir():
        return {"skipped": f"no conformance suites at {SUITES}"}
    rules = conformance_rules(work / "conformance-rules")
    report = work / "conformance.scan.json"

    def scan() -> float:
        started = time.perf_counter()
        done = subprocess.run([codelens, "scan", str(root), "--config", str(rules), "--root",
                               str(root), "--db", str(db), "--json", "--output", str(report)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"codelens scan failed:\n{done.stderr}")
        return time.perf_counter() - started

    out: dict[str, Any] = {"rule_files": len(list(rules.glob("*.yaml")))}
    wall = scan()
    ours = _findings_table(db)
    out["full"] = {"wall": wall, "findings": _report_total(report), "triples": len(ours),
                   "errors": len(_report_errors(report))}
    targets = [p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 4000][80:83]
    walls = []
    for number, target in enumerate(targets):
        original = target.read_bytes()
        target.write_bytes(original + f"\nbench_edit_{time.time_ns()}_{number} = 1\n".encode())
        walls.append(scan())
        target.write_bytes(original)
        scan()
    out["rescan_after_edit"] = walls
    theirs_file = work / "conformance.semgrep.json"
    started = time.perf_counter()
    finished = True
    try:  # its defaults: 5 s per rule and file
        subprocess.run(
            [str(semgrep), "scan", "--config", str(rules), "--json", "--output",
             str(theirs_file), "--metrics=off", "--disable-version-check",
             "--x-ignore-semgrepignore-files", "--no-git-ignore", "-j", "2", str(root)],
            capture_output=True, env={**os.environ, "HOME": str(work / "home")},
            timeout=SEMGREP_LIMIT_S)
    except subprocess.TimeoutExpired:
        finished = False  # (its Python side held 21 GB after 47 min on these 3.7M findings)
    out["semgrep"] = {"wall": time.perf_counter() - started, "finished": finished}
    document = orjson.loads(theirs_file.read_bytes()) if theirs_file.exists() else {}
    theirs = triples(document.get("results", []), root, "check_id")
    out["semgrep"].update(findings=len(document.get("results", [])),
                          errors=len(document.get("errors", [])))
    del document
    out["agreement"] = agreement({(r, p, line) for r, p, line in ours}, theirs)
    del ours, theirs
    out["sample"] = sample_agreement(root, work, rules, codelens, semgrep, triples, agreement)
    return out


def sample_agreement(root: Path, work: Path, rules: Path, codelens: str, semgrep: Path,
                     triples: Any, agreement: Any, every: int = SAMPLE_EVERY) -> dict[str, Any]:
    """Agreement on (rule, file, line) over one file in ``every`` of the corpus's Python and
    JavaScript files (copied, paths kept): semgrep finishes there, which it does not over
    the whole corpus, so the figure exists whatever happens to the full run."""
    import shutil

    sample = work / "conformance-sample"
    shutil.rmtree(sample, ignore_errors=True)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".py", ".js") and p.is_file())
    for path in files[::every]:
        copy = sample / path.relative_to(root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    db, report = work / "sample.db", work / "sample.scan.json"
    for stale in work.glob("sample.db*"):
        stale.unlink()
    done = subprocess.run([codelens, "scan", ".", "--config", str(rules), "--root", ".",
                           "--db", str(db), "--json", "--output", str(report)],
                          cwd=sample, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"codelens scan of the sample failed:\n{done.stderr}")
    ours = _findings_table(db)
    theirs_file = work / "sample.semgrep.json"
    theirs_file.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        subprocess.run([str(semgrep), "scan", "--config", str(rules), "--json", "--output",
                        str(theirs_file), "--metrics=off", "--disable-version-check",
                        "--x-ignore-semgrepignore-files", "--no-git-ignore", "-j", "2", "."],
                       cwd=sample, capture_output=True,
                       env={**os.environ, "HOME": str(work / "home")}, timeout=SEMGREP_LIMIT_S)
    except subprocess.TimeoutExpired:
        return {"files": len(files[::every]), "every": every, "finished": False}
    wall = time.perf_counter() - started
    document = orjson.loads(theirs_file.read_bytes()) if theirs_file.exists() else {}
    theirs = triples(document.get("results", []), sample, "check_id")
    ids = {rule["id"] for path in rules.glob("*.yaml")
           for rule in yaml.safe_load(path.read_text())["rules"]}
    differing = {rule for rule, _path, _line in ours ^ theirs}
    return {"files": len(files[::every]), "every": every, "finished": True,
            "semgrep_wall": wall, "agreement": agreement(ours, theirs), "rules": len(ids),
            "rules_identical": len(ids - differing)}


def _findings_table(db: Path) -> set[tuple[str, str, int]]:
    """(rule, path, line) of the last scan's findings, from the index."""
    import apsw

    connection = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return {(rule, path, line) for rule, path, line in connection.execute(
            "SELECT rule_id, path, start_line FROM findings")}
    finally:
        connection.close()


def _report_total(report: Path) -> int:
    """How many results a JSON report holds, counted in its bytes."""
    key, total, carry = b'"check_id":', 0, b""
    with report.open("rb") as handle:
        while chunk := handle.read(64 << 20):
            window = carry + chunk  # a key cut by the chunk's end is whole here next time
            total += window.count(key)
            carry = window[-(len(key) - 1):]
    return total


def _report_errors(report: Path) -> list[Any]:
    """The errors of a JSON report, read from its end (its results can be gigabytes)."""
    with report.open("rb") as handle:
        handle.seek(max(0, report.stat().st_size - (64 << 20)))
        tail = handle.read()
    at = tail.rfind(b'],"errors":')
    if at < 0:
        return list(orjson.loads(report.read_bytes()).get("errors", []))
    return list(orjson.loads(b"{" + tail[at + 2:]).get("errors", []))


def time_by_stage(root: Path, db: Path, rules: Path) -> dict[str, float]:
    """Seconds of one in-process full scan (no cache) by stage, from a profile."""
    from indexer.scan import ScanOptions, scan

    profile = cProfile.Profile()
    options = ScanOptions(root, db, [rules], [""], use_cache=False)
    started = time.perf_counter()
    profile.runcall(scan, options)
    total = time.perf_counter() - started
    stats = pstats.Stats(profile)
    stages: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        stage = next((s for fragment, s in STAGES.items() if fragment in filename), "other")
        stages[stage] = stages.get(stage, 0.0) + own
    profiled = sum(stages.values()) or 1.0
    return {"total_s_under_profile": round(total, 2),
            **{stage: round(seconds / profiled, 3)
               for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1])}}


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    if "skipped" in result:
        return [("conformance rules over the corpus", result["skipped"], "", True)]
    full, semgrep = result["full"], result["semgrep"]["wall"]
    more = "" if result["semgrep"].get("finished", True) else "> "  # stopped: a lower bound
    edit = statistics.median(result["rescan_after_edit"])
    agree = result["agreement"]
    return [
        (f"conformance rules ({result['rule_files']} files): scan", f"{full['wall']:.2f} s, "
         f"{full['findings']} findings, {full['errors']} errors", "", True),
        ("  vs semgrep -j 2", f"{more}{semgrep:.2f} s = {more}{semgrep / full['wall']:.1f}x "
         "slower "
         f"({result['semgrep']['findings']} findings, {result['semgrep']['errors']} errors)",
         ">= 5x", semgrep / full["wall"] >= 5),
        ("  re-scan after one edit", f"{edit:.3f} s = {more}{semgrep / edit:.0f}x faster than "
         "semgrep's scan", ">= 50x", semgrep / edit >= 50),
        ("  agreement with semgrep", f"{agree['ratio']:.1%} of "
         f"{agree['ours'] + agree['semgrep'] - agree['both']} (rule, file, line)" if not more
         else f"none: semgrep did not finish in {SEMGREP_LIMIT_S} s", "", True),
        *sample_rows(result.get("sample")),
    ]


def sample_rows(sample: dict[str, Any] | None) -> list[tuple[str, str, str, bool]]:
    if not sample:
        return []
    what = f"  agreement on 1 file in {sample['every']} ({sample['files']} files)"
    if not sample["finished"]:
        return [(what, f"none: semgrep did not finish in {SEMGREP_LIMIT_S} s", "", True)]
    agree = sample["agreement"]
    return [(what, f"{agree['ratio']:.1%} of {agree['ours'] + agree['semgrep'] - agree['both']}"
             f" (rule, file, line); {sample['rules_identical']} of {sample['rules']} rules find "
             f"exactly what semgrep finds; semgrep took {sample['semgrep_wall']:.0f} s", "",
             True)]
