"""codelens test RULES_DIR: rules beside example files annotated as semgrep --test reads them.

For a rule file ``x.yaml`` the examples are the other files named ``x.*`` in its folder. A
comment ``ruleid: ID`` says the next code line must be reported by rule ID, ``ok: ID`` that it
must not be; ``todoruleid:`` and ``todook:`` mark known gaps: shown, not failures. An example
``x.py`` with a ``x.fixed.py`` beside it also checks the rules' fixes: applied to the example
(as ``scan --autofix`` would), they must give that file's content.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

ANNOTATION = re.compile(r"(?:#|//|--|/\*|;|<!--)\s*(todoruleid|todook|ruleid|ok):\s*([\w.\-, ]+)")


class RuleFileResult(NamedTuple):
    rule_file: str
    passed: bool
    missing: list[tuple[str, str, int]]  # rule id, example file, line: expected, not reported
    unexpected: list[tuple[str, str, int]]  # reported on a line marked ok
    todo: list[tuple[str, str, int]]
    errors: list[str]


def expectations(example: Path) -> dict[str, dict[int, str]]:
    """rule id -> {line: kind} for the code line after each annotation."""
    found: dict[str, dict[int, str]] = defaultdict(dict)
    lines = example.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines):
        match = ANNOTATION.search(line)
        if not match:
            continue
        target = number + 1
        while target < len(lines) and (not lines[target].strip() or ANNOTATION.search(
                lines[target])):
            target += 1
        for rule_id in (r.strip() for r in match.group(2).split(",")):
            if rule_id:
                found[rule_id][target + 1] = match.group(1)
    return found


def run_rule_tests(rules_dir: Path) -> list[RuleFileResult]:
    """Each rule file of the folder against its examples; a rule file that cannot run is a
    failed result with its error, and the others still run."""
    from indexer import engine
    from indexer.errors import UsageError
    from indexer.match.rules import rule_files
    from indexer.scan import ScanOptions, scan
    from indexer.settings import IndexOptions

    results = []
    with tempfile.TemporaryDirectory(prefix="codelens-test-") as scratch:
        db = Path(scratch) / "index.db"
        root = rules_dir.resolve()
        engine.index(IndexOptions(root=root, db_path=db, jobs=1))
        for rule_file in rule_files(root):
            examples = [p for p in rule_file.parent.glob(rule_file.stem + ".*")
                        if p.suffix not in (".yml", ".yaml") and p.is_file()
                        and not p.name.startswith(rule_file.stem + ".fixed.")]
            scope = [str(p.relative_to(root)) for p in examples]
            try:
                report = scan(ScanOptions(root, db, [rule_file], scope or ["\0none"]))
            except UsageError as exc:
                results.append(RuleFileResult(str(rule_file), False, [], [], [],
                                              [exc.message]))
                continue
            results.append(_check(rule_file, examples, report))
    return results


def _check(rule_file: Path, examples: list[Path], report: Any) -> RuleFileResult:
    reported = {(f.rule_id, Path(f.path).name, f.start[0]) for f in report.findings}
    missing, unexpected, todo = [], [], []
    for example in examples:
        for rule_id, lines in expectations(example).items():
            for line, kind in lines.items():
                key = (rule_id, example.name, line)
                if kind == "ruleid" and key not in reported:
                    missing.append(key)
                elif kind == "ok" and key in reported:
                    unexpected.append(key)
                elif kind.startswith("todo"):
                    todo.append(key)
    errors = [f"{e.get('rule_id') or e['path']}: {e['message']}" for e in report.errors]
    errors += _fix_mismatches(rule_file, examples, report)
    return RuleFileResult(str(rule_file), not (missing or unexpected or errors), missing,
                          unexpected, todo, errors)


def _fix_mismatches(rule_file: Path, examples: list[Path], report: Any) -> list[str]:
    """For each example with an ``x.fixed.EXT`` beside it: where the fixes, applied to the
    example, do not give that file."""
    import orjson

    from indexer.autofix import edits_of, plan

    by_name = {}
    for chunk in report.results:
        found = orjson.loads(chunk)
        if found:
            by_name[Path(found[0]["path"]).name] = found
    problems = []
    for example in examples:
        suffix = example.name[len(rule_file.stem):]  # ".py" of "x.py"
        expected = example.with_name(f"{rule_file.stem}.fixed{suffix}")
        if not expected.is_file():
            continue
        fixed, _, _ = plan(example.read_bytes(), edits_of(by_name.get(example.name, [])))
        want = expected.read_bytes().decode("utf-8", "replace").split("\n")
        got = fixed.decode("utf-8", "replace").split("\n")
        if got != want:
            pairs = zip(got, want, strict=False)  # (the shorter one ends first)
            line = next((n for n, (a, b) in enumerate(pairs) if a != b),
                        min(len(got), len(want)))
            problems.append(f"the fixes of {example.name} differ from {expected.name} at line "
                            f"{line + 1}: {_at(got, line)!r} instead of {_at(want, line)!r}")
    return problems


def _at(lines: list[str], index: int) -> str:
    return lines[index] if index < len(lines) else "(end of file)"
