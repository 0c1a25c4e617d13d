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

import heapq
import re
from collections.abc import Iterator
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
LONE_METAVARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")
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


Spans = list[tuple[int, int]]  # sorted, disjoint [start, end] byte spans


def evaluate(formula: Formula, run: Evaluation, context: Range | None = None,
             within: Spans | None = None) -> list[Range]:
    """The ranges ``formula`` gives in the file ``run`` is about. ``within``, when given,
    says that the caller needs only the plain ranges that start in those spans: a pattern
    then looks for candidates there alone (inside ranges, which must span what they keep,
    are always searched in full)."""
    if isinstance(formula, PatternLeaf):
        return run.pattern_ranges(formula, context, within=within)
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
        return [r for item in formula.items for r in evaluate(item, run, context, within)]
    if isinstance(formula, And):
        return _conjunction(formula, run, context, within)
    raise ValueError(f"{type(formula).__name__} can only appear inside `patterns`")


def _conjunction(formula: And, run: Evaluation, context: Range | None,
                 within: Spans | None) -> list[Range]:
    positives = [i for i in formula.items if isinstance(i, POSITIVE_TYPES)]
    negatives = [i for i in formula.items if isinstance(i, Not)]
    conditions = [i for i in formula.items if isinstance(i, CONDITION_TYPES)]
    focus = [i for i in formula.items if isinstance(i, Focus)]
    selector, positives = _selector(positives)
    inside = [evaluate(p, run, context) for p in positives if isinstance(p, Inside)]
    plain_items = [p for p in positives if not isinstance(p, (Inside, Anywhere))]
    if len(plain_items) == 1 and inside:
        # what the one plain operand gives is kept only within a range of every inside
        # operand: it is looked for there alone (with several plain operands, one may
        # span another beyond those ranges)
        for ranges in inside:
            within = narrow(within, spans_of(ranges))
    elif len(plain_items) != 1:
        within = None
    plain = [evaluate(p, run, context, within) for p in plain_items]
    inside += [evaluate(p, run, context) for p in positives if isinstance(p, Anywhere)]
    ordered = plain + inside
    if not ordered:
        ordered = [[context]] if context is not None else [[]]
    ranges = ordered[0]
    for other in ordered[1:]:
        ranges = intersect(ranges, other, run)
    if selector is not None and ranges:
        # a lone `$X` beside other operands selects among what lies within their ranges
        # (semgrep's selector), never what spans them
        found = evaluate(selector, run, context, spans_of(ranges))
        kept = {id(f) for f, _ in containers(found, ranges)}
        ranges = intersect(ranges, [f for f in found if id(f) in kept], run)
    for negative in negatives:
        exact = not isinstance(negative.item, (Inside, RegexLeaf))  # removes its very range
        removing = evaluate(negative.item, run, context, spans_of(ranges) if exact else None)
        ranges = difference(ranges, removing, run)
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


def _selector(positives: list[Formula]) -> tuple[PatternLeaf | None, list[Formula]]:
    """A lone-metavariable pattern (``pattern: $X``) taken out of the positive operands when
    others remain, and the others (a second, different one stays an operand)."""
    selector, rest = None, []
    for item in positives:
        if isinstance(item, PatternLeaf) and item.alias is None and \
                LONE_METAVARIABLE.fullmatch(item.source.strip()):
            if selector is None:
                selector = item
                continue
            if selector.source.strip() == item.source.strip():
                continue
        rest.append(item)
    return (selector, rest) if selector is not None and rest else (None, positives)


def spans_of(ranges: list[Range]) -> Spans:
    """The union of the ranges as sorted disjoint spans."""
    spans: Spans = []
    for start, end in sorted((r.start, r.end) for r in ranges):
        if spans and start <= spans[-1][1]:
            if end > spans[-1][1]:
                spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def narrow(spans: Spans | None, others: Spans) -> Spans:
    """Where both sets of spans lie (``None`` is everywhere)."""
    if spans is None:
        return others
    out: Spans = []
    i = j = 0
    while i < len(spans) and j < len(others):
        start = max(spans[i][0], others[j][0])
        end = min(spans[i][1], others[j][1])
        if start <= end:
            out.append((start, end))
        if spans[i][1] < others[j][1]:
            i += 1
        else:
            j += 1
    return out


def included(inner: Range, outer: Range, run: Evaluation) -> bool:
    """``inner`` lies within ``outer`` (anywhere in the file for a pattern-anywhere) and
    their common metavariables bound the same code."""
    if outer.kind != "anywhere" and not (outer.start <= inner.start and inner.end <= outer.end):
        return False
    return agree(inner, outer, run)


def agree(inner: Range, outer: Range, run: Evaluation) -> bool:
    """The metavariables both ranges bind stand for the same code."""
    for name, value in inner.env.items():
        other = outer.env.get(name)
        if other is not None and not run.same_binding(value, other):
            return False
    return True


def containers(us: list[Range], vs: list[Range]) -> Iterator[tuple[Range, Range]]:
    """Every pair (u, v) where the range v spans u, or v is an anywhere range.

    A sweep in start order: the ranges that can still span a later u are those that have
    begun and not yet ended, which for ranges of a syntax tree are a node's ancestors, so
    the work grows with the matches rather than with their product."""
    anywhere = [v for v in vs if v.kind == "anywhere"]
    placed = sorted((v for v in vs if v.kind != "anywhere"), key=lambda v: (v.start, -v.end))
    active: list[tuple[int, int, Range]] = []  # heap by end
    i = 0
    for u in sorted(us, key=lambda u: (u.start, -u.end)):
        while i < len(placed) and placed[i].start <= u.start:
            heapq.heappush(active, (placed[i].end, i, placed[i]))
            i += 1
        while active and active[0][0] < u.start:
            heapq.heappop(active)  # ended before u begins: spans no later range either
        for end, _, v in active:
            if end >= u.end:
                yield u, v
        for v in anywhere:
            yield u, v


def intersect(xs: list[Range], ys: list[Range], run: Evaluation) -> list[Range]:
    out: list[Range] = []
    for us, vs in ((xs, ys), (ys, xs)):
        placed = [u for u in us if u.kind != "anywhere"]  # never the result itself
        for u, v in containers(placed, vs):
            if (u.kind != "inside" or v.kind == "inside") and agree(u, v, run):
                merged = dict(v.env)
                merged.update(u.env)
                out.append(u._replace(env=merged))
    return unique(out)


def difference(positives: list[Range], negatives: list[Range], run: Evaluation) -> list[Range]:
    """The positives no negative removes: an inside negative removes what it spans, a regex
    one what it spans or lies within, any other only the very same range."""
    removed: set[int] = set()  # ids of the positives dropped
    spanning = [y for y in negatives if y.kind in ("inside", "regex")]
    for x, y in containers(positives, spanning):
        if agree(x, y, run):
            removed.add(id(x))
    regexes = [y for y in negatives if y.kind == "regex"]
    for y, x in containers(regexes, positives):
        if agree(y, x, run):
            removed.add(id(x))
    same: dict[tuple[int, int], list[Range]] = {}
    for y in negatives:
        if y.kind not in ("inside", "regex"):
            same.setdefault((y.start, y.end), []).append(y)
    for x in positives:
        if id(x) not in removed and any(
            agree(x, y, run) and agree(y, x, run) for y in same.get((x.start, x.end), ())
        ):
            removed.add(id(x))
    return [x for x in positives if id(x) not in removed]


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
