"""A rule's formula as typed values, and its evaluation on one file (semgrep's
Match_search_mode): ranges with metavariable bindings, combined as sets.

- a pattern gives the ranges it matches; ``pattern-inside`` the same ranges, marked inside;
- ``pattern-either`` is their union;
- ``patterns`` keeps the ranges of each positive operand that lie within a range of every
  other (bindings must agree, and are merged), inside ranges taken last; then drops those a
  negation matches (``pattern-not``: the same range; ``pattern-not-inside``: within one);
  then filters by each metavariable condition, in order; then narrows to focused
  metavariables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from indexer.match.evaluate import Evaluation


class PatternLeaf(NamedTuple):
    source: str
    alias: str | None = None  # `as: $X` in the match syntax: bind the match to $X


class RegexLeaf(NamedTuple):
    regex: str


class Or(NamedTuple):
    items: tuple[Any, ...]


class And(NamedTuple):
    items: tuple[Any, ...]


class Not(NamedTuple):
    item: Any


class Inside(NamedTuple):
    item: Any


class Anywhere(NamedTuple):
    item: Any


class MetavarRegex(NamedTuple):
    name: str
    regex: str
    constant_propagation: bool = False


class MetavarPattern(NamedTuple):
    name: str
    language: str | None
    formula: Any


class Comparison(NamedTuple):
    name: str | None
    comparison: str
    strip: bool = False
    base: int | None = None


class MetavarType(NamedTuple):
    name: str
    types: tuple[str, ...]
    language: str | None = None


class Analysis(NamedTuple):
    name: str
    analyzer: str


class Focus(NamedTuple):
    names: tuple[str, ...]


Formula = Any  # one of the classes above
CONDITION_TYPES = (MetavarRegex, MetavarPattern, Comparison, MetavarType, Analysis)
POSITIVE_TYPES = (PatternLeaf, RegexLeaf, Or, And, Inside, Anywhere)


class Range(NamedTuple):
    start: int
    end: int
    env: dict[str, Any]
    kind: str = "plain"  # "plain", "inside" or "regex"


def pattern_leaves(formula: Formula) -> list[tuple[str, str | None]]:
    """Every (pattern source, language override) of a formula, nested ones included."""
    found: list[tuple[str, str | None]] = []
    stack: list[tuple[Formula, str | None]] = [(formula, None)]
    while stack:
        item, language = stack.pop()
        if isinstance(item, PatternLeaf):
            found.append((item.source, language))
        elif isinstance(item, (Or, And)):
            stack.extend((i, language) for i in item.items)
        elif isinstance(item, (Not, Inside, Anywhere)):
            stack.append((item.item, language))
        elif isinstance(item, MetavarPattern):
            stack.append((item.formula, item.language or language))
    return found


def evaluate(formula: Formula, run: Evaluation, context: Range | None = None) -> list[Range]:
    """The ranges ``formula`` gives in the file ``run`` is about."""
    if isinstance(formula, PatternLeaf):
        return run.pattern_ranges(formula, context)
    if isinstance(formula, RegexLeaf):
        return run.regex_ranges(formula.regex, context)
    if isinstance(formula, Inside):
        if isinstance(formula.item, PatternLeaf):
            found = run.pattern_ranges(formula.item, context, inside=True)
        else:
            found = evaluate(formula.item, run, context)
        return [r._replace(kind="inside") for r in found]
    if isinstance(formula, Anywhere):
        return [r._replace(kind="anywhere") for r in evaluate(formula.item, run, context)]
    if isinstance(formula, Or):
        return [r for item in formula.items for r in evaluate(item, run, context)]
    if isinstance(formula, And):
        return _conjunction(formula, run, context)
    raise ValueError(f"{type(formula).__name__} can only appear inside `patterns`")


def _conjunction(formula: And, run: Evaluation, context: Range | None) -> list[Range]:
    positives = [i for i in formula.items if isinstance(i, POSITIVE_TYPES)]
    negatives = [i for i in formula.items if isinstance(i, Not)]
    conditions = [i for i in formula.items if isinstance(i, CONDITION_TYPES)]
    focus = [i for i in formula.items if isinstance(i, Focus)]
    evaluated = [evaluate(p, run, context) for p in positives]
    pairs = list(zip(positives, evaluated, strict=True))
    plain = [rs for p, rs in pairs if not isinstance(p, (Inside, Anywhere))]
    inside = [rs for p, rs in pairs if isinstance(p, Inside)]
    inside += [rs for p, rs in pairs if isinstance(p, Anywhere)]
    ordered = plain + inside
    if not ordered:
        ordered = [[context]] if context is not None else [[]]
    ranges = ordered[0]
    for other in ordered[1:]:
        ranges = intersect(ranges, other, run)
    for negative in negatives:
        ranges = difference(ranges, evaluate(negative.item, run, context), run)
    pending: list[tuple[Range, list[dict[str, Any]]]] = [(r, []) for r in ranges]
    for condition in conditions:
        pending = run.filter(pending, condition)
    ranges = []
    for r, extras in pending:  # bindings the conditions made join only now (semgrep's
        ranges.append(r)       # persistent bindings): they never constrain each other
        for extra in extras:
            env = dict(r.env)
            env.update(extra)
            ranges.append(r._replace(env=env))
    for item in focus:
        ranges = run.focus(ranges, item.names)
    return unique(ranges)


def included(inner: Range, outer: Range, run: Evaluation) -> bool:
    """``inner`` lies within ``outer`` (anywhere in the file for a pattern-anywhere) and
    their common metavariables bound the same code."""
    if outer.kind != "anywhere" and not (outer.start <= inner.start and inner.end <= outer.end):
        return False
    for name, value in inner.env.items():
        other = outer.env.get(name)
        if other is not None and not run.same_binding(value, other):
            return False
    return True


def intersect(xs: list[Range], ys: list[Range], run: Evaluation) -> list[Range]:
    out: list[Range] = []
    for us, vs in ((xs, ys), (ys, xs)):
        for u in us:
            if u.kind == "anywhere":
                continue  # an anywhere range never becomes the result itself
            for v in vs:
                if included(u, v, run) and (u.kind != "inside" or v.kind == "inside"):
                    merged = dict(v.env)
                    merged.update(u.env)
                    out.append(u._replace(env=merged))
    return unique(out)


def difference(positives: list[Range], negatives: list[Range], run: Evaluation) -> list[Range]:
    def removed(x: Range) -> bool:
        for y in negatives:
            if y.kind == "inside":
                if included(x, y, run):
                    return True
            elif y.kind == "regex":
                if included(x, y, run) or included(y, x, run):
                    return True
            elif included(x, y, run) and included(y, x, run):
                return True
        return False

    return [x for x in positives if not removed(x)]


def unique(ranges: list[Range]) -> list[Range]:
    seen: dict[tuple[Any, ...], Range] = {}
    for r in ranges:
        seen.setdefault((r.start, r.end, r.kind, binding_key(r.env)), r)
    return list(seen.values())


def binding_key(env: dict[str, Any]) -> tuple[Any, ...]:
    parts: list[tuple[Any, ...]] = []
    for name in sorted(env):
        value = env[name]
        if isinstance(value, tuple):
            parts.append((name, tuple((v.start, v.end) for v in value)))
        else:
            parts.append((name, value.start, value.end, value.kind))
    return tuple(parts)
