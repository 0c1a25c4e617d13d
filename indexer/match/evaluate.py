"""A rule's formula evaluated on one file: ranges with metavariable bindings.

``patterns`` keeps the ranges of its first positive operand that lie inside a range of every
other positive operand (bindings must agree and are merged); ``pattern-inside`` likewise;
``pattern-not`` drops ranges it matches exactly, ``pattern-not-inside`` ranges inside one of
its ranges; ``metavariable-regex`` keeps ranges whose binding matches (``re.match``, as in
semgrep); ``pattern-either`` is the union.
"""

from __future__ import annotations

import functools
import re

from indexer.match.matcher import Bindings, Match, Target, find
from indexer.match.pattern import Pattern, compile_pattern
from indexer.match.rules import Formula

POSITIVE = ("pattern", "either", "all", "inside")


class Evaluator:
    """Evaluates formulas on one target, compiling each pattern once per language."""

    def __init__(self, target: Target, language: str) -> None:
        self.target = target
        self.language = language

    def evaluate(self, formula: Formula) -> list[Match]:
        op = formula.op
        if op == "pattern":
            return find(pattern_for(formula.pattern, self.language), self.target)
        if op == "either":
            return _unique(m for child in formula.children for m in self.evaluate(child))
        if op == "all":
            return self._all(formula.children)
        raise ValueError(f"operator {op!r} outside `patterns`")

    def _all(self, children: tuple[Formula, ...]) -> list[Match]:
        positives = [c for c in children if c.op in POSITIVE]
        first = next(c for c in positives if c.op != "inside") if any(
            c.op != "inside" for c in positives) else positives[0]
        ranges = self.evaluate(first.children[0] if first.op == "inside" else first)
        for child in children:
            if child is first or not ranges:
                continue
            ranges = self._apply(child, ranges)
        return _unique(ranges)

    def _apply(self, child: Formula, ranges: list[Match]) -> list[Match]:
        if child.op == "regex":
            return [r for r in ranges if self._regex_holds(child, r)]
        operand = child.children[0] if child.op in ("inside", "not", "not-inside") else child
        others = self.evaluate(operand)
        if child.op == "not":
            return [r for r in ranges if not any(
                (o.start, o.end) == (r.start, r.end) and self._merge(r.bindings, o.bindings)
                is not None for o in others)]
        if child.op == "not-inside":
            return [r for r in ranges if not any(
                _inside(r, o) and self._merge(r.bindings, o.bindings) is not None for o in others)]
        kept = []  # pattern / either / all / inside: must lie inside a range of the operand
        for r in ranges:
            for o in others:
                merged = self._merge(r.bindings, o.bindings) if _inside(r, o) else None
                if merged is not None:
                    kept.append(Match(r.start, r.end, merged))
                    break
        return kept

    def _merge(self, a: Bindings, b: Bindings) -> Bindings | None:
        """Both sets of bindings, or None when a metavariable bound different code."""
        source = self.target.source
        merged = dict(a)
        for name, span in b.items():
            bound = merged.get(name)
            if bound is not None and source[bound[0]:bound[1]] != source[span[0]:span[1]]:
                return None
            merged.setdefault(name, span)
        return merged

    def _regex_holds(self, child: Formula, match: Match) -> bool:
        span = match.bindings.get(child.metavariable)
        if span is None:
            return False
        text = self.target.source[span[0]:span[1]].decode("utf-8", "replace")
        return _regex(child.regex).match(text) is not None


@functools.lru_cache(maxsize=4096)
def pattern_for(source: str, language: str) -> Pattern:
    return compile_pattern(source, language)


@functools.lru_cache(maxsize=1024)
def _regex(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _inside(inner: Match, outer: Match) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _unique(matches: object) -> list[Match]:
    seen: dict[tuple[int, int], Match] = {}
    for match in matches:  # type: ignore[attr-defined]
        seen.setdefault((match.start, match.end), match)
    return sorted(seen.values(), key=lambda m: (m.start, m.end))
