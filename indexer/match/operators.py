"""Operators (semgrep's m_call_op): chains of an associative operator matched by their
operands (in any order when it also commutes), ``A op ...`` reaching into longer chains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from indexer.match.node import Node, make, span_of

if TYPE_CHECKING:
    from indexer.match.matcher import Env, Matcher

COMMUTATIVE = frozenset({"|", "&", "^"})
ASSOCIATIVE = frozenset({"and", "or", "|", "&", "^"})
BOOLEAN = {"&&": "and", "||": "or", "!": "not"}


def binop(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """Operators (semgrep's m_call_op): the same operator, ``&&``/``and`` alike; ``A op ...``
    reaches into the left operand of a longer chain; chains of an associative operator are
    matched by their operands (in any order when it also commutes)."""
    pop = BOOLEAN.get(p.value, p.value)
    top = BOOLEAN.get(t.value, t.value)
    if pop != top:  # (before t.kids: converting the operands costs more than this test)
        return
    pleft, pright = p.kids
    tleft, tright = t.kids
    if pright is not None and pright.kind == "Ellipsis" and pop not in ASSOCIATIVE:
        matched = False
        for env2 in m.m(pleft, tleft, env):
            matched = True
            yield env2
        if not matched and tleft is not None and tleft.kind == "BinOp":
            yield from m.m(p, tleft, env)
        return
    if pop in ASSOCIATIVE and m.options.get("ac_matching", True):
        ps, ts = operands(p, pop), operands(t, pop)
        if pop in COMMUTATIVE or (pop in ("and", "or") and m.options.get("commutative_boolop")):
            yield from ac_match(m, pop, ps, ts, env)
        else:
            yield from _assoc(m, pop, ps, ts, env)
        return
    for found in m.m(pleft, tleft, env):
        yield from m.m(pright, tright, found)


def operands(node: Node, op: str) -> list[Node]:
    """The operands of a chain of one associative operator: a && b && c -> [a, b, c]."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.kind == "BinOp" and BOOLEAN.get(current.value, current.value) == op:
            left, right = current.kids
            stack.append(right)
            stack.append(left)
        else:
            out.append(current)
    return out


def _rebuild(op: str, items: list[Node]) -> Node:
    result = items[0]
    for item in items[1:]:
        result = make("BinOp", *span_of(result, item), result, item, value=op)
    return result


def _assoc(m: Matcher, op: str, ps: list[Node], ts: list[Node], env: Env) -> Iterator[Env]:
    """Associative only: in order, every operand consumed; a metavariable takes a run of
    one or more operands, ``...`` any run."""
    if not ps:
        if not ts:
            yield env
        return
    first, rest = ps[0], ps[1:]
    if first.kind == "Ellipsis":
        if not rest:
            yield env
            return
        for cut in range(len(ts) + 1):
            yield from _assoc(m, op, rest, ts[cut:], env)
        return
    if first.kind == "Metavar":
        for cut in range(1, len(ts) + 1):
            for found in m.m(first, _rebuild(op, ts[:cut]), env):
                yield from _assoc(m, op, rest, ts[cut:], found)
        return
    if ts:
        for found in m.m(first, ts[0], env):
            yield from _assoc(m, op, rest, ts[1:], found)


def ac_match(m: Matcher, op: str, ps: list[Node], ts: list[Node], env: Env) -> Iterator[Env]:
    """Associative and commutative (semgrep's m_ac_op): each operand of the pattern that is
    not a metavariable against a distinct operand of the code, in any order; operands left
    over are allowed; metavariables then take disjoint non-empty subsets of what is left when
    at most 3 are left, else runs in order."""
    fixed = [x for x in ps if x.kind not in ("Metavar", "Ellipsis")]
    variables = [x for x in ps if x.kind in ("Metavar", "Ellipsis")]
    while variables and variables[-1].kind == "Ellipsis":
        variables.pop()
    many = len(ts) - len(fixed) > 3
    for found, left in _one_to_one(m, fixed, ts, env):
        if not variables:
            yield found
        elif many:
            wanted = tuple(variables) + (make("Ellipsis", -1, -1),)
            yield from m.args(wanted, tuple(left), found)
        else:
            yield from _subsets(m, op, variables, left, found)


def _one_to_one(m: Matcher, ps: list[Node], ts: list[Node],
                env: Env) -> Iterator[tuple[Env, list[Node]]]:
    if not ps:
        yield env, ts
        return
    first, rest = ps[0], ps[1:]
    for position, t in enumerate(ts):
        for found in m.m(first, t, env):
            yield from _one_to_one(m, rest, ts[:position] + ts[position + 1:], found)


def _subsets(m: Matcher, op: str, variables: list[Node], left: list[Node],
             env: Env) -> Iterator[Env]:
    if not variables:
        yield env
        return
    first, rest = variables[0], variables[1:]
    count = len(left)
    for mask in range(1 << count):
        chosen = [left[i] for i in range(count) if mask >> i & 1]
        remaining = [left[i] for i in range(count) if not mask >> i & 1]
        if not chosen:
            if first.kind == "Ellipsis":
                yield from _subsets(m, op, rest, remaining, env)
            continue
        for found in m.m(first, _rebuild(op, chosen), env):
            yield from _subsets(m, op, rest, remaining, found)
