"""The equivalences semgrep applies by default, and the sub-node walks they need.

Kept apart from matcher.py so that the matcher reads as the plain structural comparison and
this module as the list of "code that looks different but means the same" (operators.py,
import_patterns.py and subnodes.py hold the larger families).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from indexer.match.facts import Facts
from indexer.match.node import LITERALS, Node, make, same, span_of
from indexer.match.operators import BOOLEAN
from indexer.match.subnodes import implicit_subexpressions, subexpressions

if TYPE_CHECKING:
    from indexer.match.matcher import Env, Matcher

NUMBERS = frozenset({"number", "int", "float"})


# the pattern kinds that can match what an imported name resolves to (a dotted Attr chain):
# against any other, resolving the file's imports (costly in JavaScript) could find nothing
RESOLVED_FORMS = frozenset({"Attr", "DotsChain"})


def cross_kind(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """A pattern node against code of another kind: constants and aliases seen through."""
    if t.kind == "Name" and p.kind in RESOLVED_FORMS:
        for resolved in m.facts.resolutions(t):
            yield from m.m(p, resolved, env)
    elif t.kind == "Cast" and p.kind != "Cast":
        yield from m.m(p, t.kids[1], env)
    elif p.kind == "Try" and t.kind == "With" and t.kids[1] is not None and \
            t.kids[1].kind == "Try":
        yield from m.m(p, t.kids[1], env)  # Java's try-with-resources holds a try
    elif p.kind == "For" and t.kind == "ForC" and all(
            k is not None and k.kind == "Ellipsis" for k in p.kids[:2]):
        yield from m.m_body(p.kids[2], t.kids[3], env)  # for (...): any loop header
    elif p.kind == "ForC" and t.kind == "For" and all(
            k is not None and k.kind == "Ellipsis" for k in p.kids[:3]):
        yield from m.m_body(p.kids[3], t.kids[2], env)  # for (...) is any loop header
    elif p.kind == "FuncDef" and t.kind == "Lambda" and p.kids[0] is not None and \
            p.kids[0].kind == "Ellipsis":  # function ...(...) is a function or a lambda
        for found in m.seq(p.kids[1], t.kids[0], env):
            yield from m.m_body(p.kids[3], t.kids[1], found)


def values_agree(p: Node, t: Node, option: Callable[[str], bool]) -> bool:
    """Values that differ in spelling only (``option``: is this rule option on)."""
    if p.kind in ("BinOp", "UnOp"):
        return BOOLEAN.get(p.value, p.value) == BOOLEAN.get(t.value, t.value)
    if p.kind == "Modifier":
        return p.value == "var" and t.value in ("let", "const") and option("let_is_var")
    if p.kind == "Lambda":  # an arrow function and a function expression
        return option("arrow_is_function")
    return False


def vardef_as_assign(t: Node) -> Node | None:
    """``var x = 1`` as the assignment ``x = 1`` (None without a value)."""
    name, _type, value, _attrs = t.kids
    if name is None or value is None:
        return None
    return make("Assign", t.start, t.end, name, value, value="=")


def same_binding(a: Any, b: Any, facts: Facts) -> bool:
    """Whether a metavariable's two bindings are the same code."""
    if isinstance(a, Node) and isinstance(b, Node):
        if a.kind == "Name" and b.kind == "Name":
            return a.value == b.value and same_variable(a, b, facts)
        if a.kind == "Text" or b.kind == "Text":
            return _text_of(a) is not None and _text_of(a) == _text_of(b)
        if a.kind in LITERALS and b.kind == "Name":
            a, b = b, a
        if a.kind == "Name" and b.kind in LITERALS:
            constant = facts.constant(a)
            return constant is not None and same(constant, b)
    return same(a, b)


def same_variable(a: Node, b: Node, facts: Facts) -> bool:
    """Whether two uses of one name may be the same variable (semgrep's sids): by the
    language's naming when it has one (naming.py), by the scope that declares them when the
    converter knows it, else by the functions whose locals they are; a name that is not a
    variable (a field, a keyword) is the same by spelling."""
    converter = facts.converter
    if converter.NAMING:
        return facts.same_variable(a, b)
    scope_a, scope_b = converter.declaring_scope(a), converter.declaring_scope(b)
    if scope_a is not None and scope_b is not None:
        return scope_a == scope_b
    first, second = facts.variable(a), facts.variable(b)
    return first is None or second is None or first == second


def _text_of(node: Node) -> str | None:
    if node.kind in ("Text", "Name", "Str"):
        return str(node.value)
    return None


def type_matches(m: Matcher, ptype: Node, t: Node, env: Env) -> Iterator[Env]:
    """A typed metavariable's type against what is known of the code's type (metavariables
    in the type bind)."""
    known = m.facts.type_of(t)
    if known is None:
        return
    if {_type_text(ptype), _type_text(known)} <= NUMBERS and "number" in (
            _type_text(ptype), _type_text(known)):
        yield env  # JavaScript's number is its ints and floats
        return
    converter = m.facts.converter
    wanted = converter.builtin_type(ptype)
    for spelling in converter.type_alternatives(known):
        if wanted is not None and wanted == converter.builtin_type(spelling):
            yield env
            return
        matched = False
        for found in m.m(ptype, spelling, env):
            matched = True
            yield found
        if matched:
            return
    if _type_text(ptype) == _type_text(known):
        yield env


def _type_text(node: Node) -> str:
    if node.kind == "Name":
        return str(node.value)
    if node.kind == "Attr":
        return _type_text(node.kids[0]) + "." + _type_text(node.kids[1])
    return repr(node)


def expr_stmt(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """A statement pattern made of one expression against a code statement."""
    kind = t.kind
    if kind == "ExprStmt":
        yield from deep_implicit(m, p, t.kids[0], env)
    elif kind == "Return" and t.kids[0] is not None:
        yield from deep_all(m, p, t.kids[0], env)
    elif kind == "VarDef" and m.option("vardef_assign"):
        assign = vardef_as_assign(t)
        if assign is not None:
            yield from deep_all(m, p, assign, env)
    elif kind == "Throw" and p.kind != "Call":
        return


def deep_implicit(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    stack = [t]
    while stack:
        node = stack.pop()
        yield from m.m(p, node, env)
        stack.extend(reversed(implicit_subexpressions(node)))


def deep_all(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    for sub in subexpressions(t, deep=True):
        yield from m.m(p, sub, env)


def assign_vs_vardef(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """``$X = 1`` also matches a declaration with that initial value."""
    name, _type, value, _attrs = t.kids
    if value is None:
        return
    ptarget, pvalue = p.kids
    for found in m.m(ptarget, name, env):
        yield from m.m(pvalue, value, found)


def tuple_assign(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """``a, b = 1, 2`` holds the assignments ``a = 1`` and ``b = 2``."""
    target, value = t.kids
    if target is None or value is None or target.kind != "Container" or \
            value.kind != "Container":
        return
    targets, values = target.kids[0], value.kids[0]
    if len(targets) != len(values):
        return
    for left, right in zip(targets, values, strict=False):
        pair = make("Assign", *span_of(left, right), left, right, value=t.value)
        yield from m.m_assign(p, pair, env)


def partial_string_piece(m: Matcher, p: Node, ps: tuple[Node, ...], ts: tuple[Node, ...],
                         env: Env) -> Iterator[Env]:
    """An interpolated-string piece like ``"foo..."`` or ``"...foo"``."""
    if not ts or ts[0].kind != "Str":
        return
    text, piece = p.value, ts[0].value
    core = text.strip(".")
    if text.startswith("...") and text.endswith("..."):
        ok = core in piece
    elif text.startswith("..."):
        ok = piece.endswith(core)
    else:
        ok = piece.startswith(core)
    if ok:
        yield from m.interp_parts(ps[1:], ts[1:], env)


__all__ = ["Facts"]
