"""A daemon's scans kept warm: each (rules, scope) report is kept with the generation it
reflects; the next scan re-matches only the paths changed since, and reassembles the JSON from
per-path fragments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from indexer import __version__
from indexer import output as formats


class _Kept(NamedTuple):
    generation: int
    rules_stamp: tuple[Any, ...]
    findings: dict[str, list[Any]]  # path -> Finding
    fragments: dict[str, list[str]]  # path -> JSON text of each result
    errors: list[dict[str, Any]]
    rules: list[Any]


class ScanMemo:
    def __init__(self, root: Path, db_path: Path) -> None:
        self.root = root
        self.db_path = db_path
        self._kept: dict[tuple[Any, ...], _Kept] = {}

    def scan(self, configs: list[Path], scope: list[str], use_prefilter: bool,
             use_cache: bool) -> tuple[Any, dict[str, Any], _Kept]:
        """(report-like object, stats, kept state) for the scope, matching only what changed."""
        from indexer.scan import ScanOptions, scan

        key = (tuple(map(str, configs)), tuple(scope), use_prefilter, use_cache)
        stamp = _rules_stamp(configs)
        kept = self._kept.get(key)
        generation = self._generation()
        if kept is not None and kept.rules_stamp == stamp:
            changed = self._changed_since(kept.generation, scope)
            if not changed:
                stats = {"incremental": True, "changed_paths": 0, "generation": generation}
                return kept, stats, kept
            partial = scan(ScanOptions(self.root, self.db_path, configs, sorted(changed), None,
                                       use_prefilter, use_cache))
            kept = _merge(kept, partial, changed, generation)
            stats = {**partial.stats, "incremental": True, "changed_paths": len(changed)}
        else:
            report = scan(ScanOptions(self.root, self.db_path, configs, scope, None,
                                      use_prefilter, use_cache))
            kept = _merge(_Kept(generation, stamp, {}, {}, [], report.rules), report, set(),
                          generation)
            stats = {**report.stats, "incremental": False}
        self._kept[key] = kept
        return kept, stats, kept

    def _generation(self) -> int:
        from indexer.store.connection import open_db
        from indexer.store.reader import current_generation

        connection = open_db(self.db_path, readonly=True)
        try:
            return current_generation(connection)
        finally:
            connection.close()

    def _changed_since(self, generation: int, scope: list[str]) -> set[str]:
        from indexer.store.connection import open_db

        connection = open_db(self.db_path, readonly=True)
        try:
            paths = {p for (p,) in connection.execute(
                "SELECT DISTINCT path FROM change_log WHERE generation > ?", (generation,))}
        finally:
            connection.close()
        prefixes = [s.rstrip("/") for s in scope]
        return {p for p in paths if any(not s or p == s or p.startswith(s + "/")
                                        for s in prefixes)}


def _rules_stamp(configs: list[Path]) -> tuple[Any, ...]:
    from indexer.match.rules import rule_files

    stamp: list[tuple[str, int | None, int | None]] = []
    for config in configs:
        for path in rule_files(config) if config.exists() else [config]:
            try:
                info = path.stat()
                stamp.append((str(path), info.st_size, info.st_mtime_ns))
            except OSError:
                stamp.append((str(path), None, None))
    return tuple(stamp)


def _merge(kept: _Kept, report: Any, changed: set[str], generation: int) -> _Kept:
    findings = {p: f for p, f in kept.findings.items() if p not in changed}
    fragments = {p: f for p, f in kept.fragments.items() if p not in changed}
    fresh: dict[str, list[Any]] = {}
    for finding in report.findings:
        fresh.setdefault(finding.path, []).append(finding)
    for path, found in fresh.items():
        findings[path] = found
        results = formats.as_json(_Only(found))["results"]
        fragments[path] = [formats.dumps(r) for r in results]
    file_errors = [e for e in kept.errors
                   if e.get("path") not in changed and e["type"] != "RuleError"]
    return _Kept(generation, kept.rules_stamp, findings, fragments,
                 [e for e in report.errors if e["type"] == "RuleError"] + file_errors +
                 [e for e in report.errors if e["type"] != "RuleError"], report.rules)


class _Only(NamedTuple):
    """Just enough of a ScanReport for output.as_json."""

    findings: list[Any]
    errors: list[Any] = []
    stats: dict[str, Any] = {}
    rules: list[Any] = []


class KeptReport(NamedTuple):
    findings: list[Any]
    errors: list[dict[str, Any]]
    stats: dict[str, Any]
    rules: list[Any]


def render(kept: _Kept, stats: dict[str, Any], fmt: str) -> tuple[str, int]:
    """The report text and the number of findings, JSON assembled from kept fragments."""
    count = sum(len(f) for f in kept.findings.values())
    if fmt == "json":
        results = ",".join(fragment for path in sorted(kept.fragments)
                           for fragment in kept.fragments[path])
        tail = json.dumps({"errors": kept.errors, "stats": stats})[1:]
        return f'{{"version":{json.dumps(__version__)},"results":[{results}],{tail}', count
    findings = [f for path in sorted(kept.findings) for f in kept.findings[path]]
    report = KeptReport(findings, kept.errors, stats, kept.rules)
    if fmt == "sarif":
        return formats.dumps(formats.as_sarif(report)), count
    return formats.as_text(report), count
