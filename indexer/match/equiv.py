"""The equivalences semgrep applies by default, and the sub-node walks they need.

Kept apart from matcher.py so that the matcher reads as the plain structural comparison and
this module as the list of "code that looks different but means the same".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from indexer.match.facts import Facts
from indexer.match.node import LITERALS, STATEMENTS, Node, iter_kids, make, same, span_of

if TYPE_CHECKING:
    from indexer.match.matcher import Env, Matcher

COMMUTATIVE = frozenset({"|", "&", "^"})
ASSOCIATIVE = frozenset({"and", "or", "|", "&", "^"})
BOOLEAN = {"&&": "and", "||": "or", "!": "not"}
NUMBERS = frozenset({"number", "int", "float"})


def cross_kind(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """A pattern node against code of another kind: constants and aliases seen through."""
    if t.kind == "Name" and p.kind not in ("Name",):
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


def subexpressions(t: Node, deep: bool) -> Iterator[Node]:
    """``t`` and the expressions inside it, in preorder (semgrep's subexprs_of_expr,
    applied again to each)."""
    stack = [t]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(direct_subexpressions(node)))


def direct_subexpressions(node: Node) -> list[Node]:
    kind = node.kind
    if kind in LITERALS or kind in ("Name", "Ellipsis", "Metavar", "Other") and not (
            kind == "Other" and node.kids):
        return []
    if kind in ("FuncDef", "ClassDef"):
        return []
    if kind == "Lambda":
        body = node.kids[1]
        return [body] if body is not None else []
    if kind in ("ExprStmt", "Return", "Throw", "If", "While", "For", "VarDef", "Block",
                "Module"):
        return statement_expressions(node)
    return [k for k in iter_kids(node)]


def statement_expressions(t: Node) -> list[Node]:
    """The expressions a statement holds directly (semgrep's subexprs_of_stmt)."""
    kind = t.kind
    kids = t.kids
    if kind in ("ExprStmt", "Return"):
        return [kids[0]] if kids[0] is not None else []
    if kind == "Throw":
        return [kids[0]] if kids[0] is not None else []
    if kind in ("If", "While"):
        return [kids[0]] if kids[0] is not None else []
    if kind == "For":
        return [kids[1]] if kids[1] is not None else []
    if kind == "VarDef":
        return [kids[2]] if kids[2] is not None else []
    if kind == "Assert":
        return list(kids[0])
    if kind == "Other":
        return list(kids[0]) if kids else []
    if kind in ("Block", "Module"):
        return [e for s in kids[0] for e in statement_expressions(s)]
    return []


def implicit_subexpressions(node: Node) -> list[Node]:
    """Where a statement pattern ``foo()`` also looks (semgrep's
    subexprs_of_expr_implicit): the value of an assignment, a call's callee and arguments,
    an awaited or cast value, the object of an attribute, container elements."""
    kind = node.kind
    kids = node.kids
    if kind in ("Assign", "AugAssign"):
        return [kids[1]] if kids[1] is not None else []
    if kind == "Call":
        return [kids[0], *_argument_values(kids[1])]
    if kind == "BinOp":  # semgrep's operators are calls: their operands are arguments
        return [k for k in kids if k is not None]
    if kind == "UnOp":
        return [kids[0]] if kids[0] is not None else []
    if kind in ("Await",):
        return [kids[0]]
    if kind == "Cast":
        return [kids[1]]
    if kind == "Yield":
        return [kids[0]] if kids[0] is not None else []
    if kind == "Attr":
        return [kids[0]]
    if kind == "Container":
        return list(kids[0])
    if kind == "Record":
        return [f.kids[1] for f in kids[0] if f.kind == "Prop" and f.kids[1] is not None]
    return []


def _argument_values(args: tuple[Node, ...]) -> list[Node]:
    values = []
    for arg in args:
        if arg.kind == "Kwarg":
            values.append(arg.kids[1])
        elif arg.kind != "Spread":
            values.append(arg)
    return values


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


def binop(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """Operators (semgrep's m_call_op): the same operator, ``&&``/``and`` alike; ``A op ...``
    reaches into the left operand of a longer chain; chains of an associative operator are
    matched by their operands (in any order when it also commutes)."""
    pop = BOOLEAN.get(p.value, p.value)
    top = BOOLEAN.get(t.value, t.value)
    pleft, pright = p.kids
    tleft, tright = t.kids
    if pright is not None and pright.kind == "Ellipsis" and (
            pop not in ASSOCIATIVE or pop != top):
        if pop != top:
            return
        matched = False
        for env2 in m.m(pleft, tleft, env):
            matched = True
            yield env2
        if not matched and tleft is not None and tleft.kind == "BinOp":
            yield from m.m(p, tleft, env)
        return
    if pop != top:
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


def chain_prefixes(t: Node) -> Iterator[Node]:
    """``a.b().c`` and what it is made from by dropping accesses from the end:
    ``a.b()``, ``a`` (a method call counts as one step)."""
    current: Node | None = t
    while current is not None:
        yield current
        if current.kind == "Call" and current.kids[0].kind == "Attr":
            current = current.kids[0].kids[0]
        elif current.kind == "Attr":
            current = current.kids[0]
        else:
            current = None


def flatten_statements(ts: tuple[Node, ...]) -> tuple[Node, ...] | None:
    """Every statement and the statements nested in it, in order (semgrep's
    flatten_substmts_of_stmts), or None when nothing is nested."""
    out: list[Node] = []
    changed = False
    stack = list(reversed(ts))
    while stack:
        current = stack.pop()
        out.append(current)
        nested = lambda_bodies(current) + nested_statements(current)
        if nested:
            changed = True
            stack.extend(reversed(nested))
    return tuple(out) if changed else None


def lambda_bodies(t: Node) -> list[Node]:
    """The bodies of the lambdas in a statement's expressions (not those nested in another
    lambda), as statements: semgrep's deep statement matching reaches into callbacks."""
    if t.kind in ("Block", "Module"):
        return []  # their statements are flattened on their own
    bodies: list[Node] = []
    stack = list(reversed(statement_expressions(t)))
    while stack:
        node = stack.pop()
        if node.kind == "Lambda":
            body = node.kids[1]
            if body is not None:
                bodies.append(body if body.kind in STATEMENTS else make(
                    "ExprStmt", body.start, body.end, body))
            continue
        if node.kind in ("FuncDef", "ClassDef"):
            continue
        stack.extend(reversed(list(iter_kids(node))))
    return bodies


def nested_statements(t: Node) -> list[Node]:
    kind = t.kind
    kids = t.kids
    if kind in ("Block", "Module"):
        return list(kids[0])
    if kind == "If":
        return [k for k in (kids[1], kids[2]) if k is not None]
    if kind in ("While", "For"):
        return [k for k in (kids[-2], kids[-1]) if k is not None] if kind == "For" else [
            k for k in (kids[1], kids[2]) if k is not None]
    if kind == "DoWhile":
        return [kids[0]] if kids[0] is not None else []
    if kind == "ForC":
        return [kids[3]] if kids[3] is not None else []
    if kind == "Try":
        body, handlers, other, final = kids
        out = [body] if body is not None else []
        out += [h.kids[2] for h in handlers if h.kids[2] is not None]
        return out + [k for k in (other, final) if k is not None]
    if kind == "With":
        return [kids[1]] if kids[1] is not None else []
    if kind == "Switch":
        return [c.kids[1] for c in kids[1] if c.kids[1] is not None]
    if kind == "Label":
        return [kids[1]] if kids[1] is not None else []
    if kind == "FuncDef":
        return [kids[3]] if kids[3] is not None else []
    if kind == "ClassDef":
        return [kids[3]] if kids[3] is not None else []
    return []


def imports(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """Import patterns: a module prefix is enough, names in any order, more allowed; a
    simple ``from a import b`` pattern also matches ``import a.b``-like spellings."""
    if t.kind == "VarDef":
        view = m.facts.converter.import_view(t)
        if view is not None:
            yield from _import_vs_require(m, p, view, env)
        return
    matched = False
    for found in _import_direct(m, p, t, env):
        matched = True
        yield found
    if matched:
        return
    pattern_paths = _import_paths(p, pattern=True)
    code_paths = _import_paths(t, pattern=False)
    if pattern_paths is None or code_paths is None:
        return
    for path in pattern_paths:
        if not any(_prefix(path, code) for code in code_paths):
            return
    yield env


def _import_vs_require(m: Matcher, p: Node, view: Node, env: Env) -> Iterator[Env]:
    """``import 'm'`` and ``import {a, b as c} from 'm'`` against a ``require('m')``
    declaration (semgrep's m_directive_vs_def): the names must be the destructured
    fields, each bound to the same local name."""
    if p.kind == "ImportAs" and p.kids[1] is None:
        names: tuple[Node, ...] = ()
    elif p.kind == "ImportFrom":
        names = tuple(n for n in p.kids[1] if n.kind == "Alias")
    else:
        return
    if view.kind == "ImportAs" and names:
        return
    fields = view.kids[1] if view.kind == "ImportFrom" else ()
    for found in m.m(p.kids[0], view.kids[0], env):
        yield from _names_vs_fields(m, names, fields, found)


def _names_vs_fields(m: Matcher, ps: tuple[Node, ...], ts: tuple[Node, ...],
                     env: Env) -> Iterator[Env]:
    if not ps:
        yield env
        return
    first, rest = ps[0], ps[1:]
    for position, t in enumerate(ts):
        for found in m.m(first.kids[0], t.kids[0], env):
            palias, talias = first.kids[1], t.kids[1]
            if palias is None:
                aliased = iter((found,)) if talias is None else iter(())
            else:
                aliased = m.m(palias, talias if talias is not None else t.kids[0], found)
            for found2 in aliased:
                yield from _names_vs_fields(m, rest, ts[:position] + ts[position + 1:], found2)


def _import_direct(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    if p.kind == "ImportAs" and t.kind == "ImportAll" and p.kids[1] is None:
        yield from _module_prefix(m, p.kids[0], t.kids[0], env)  # import m finds m's *
        return
    if p.kind != t.kind:
        return
    if p.value is not None and p.value != t.value:
        return  # `import static` (a pattern without it matches both)
    if p.kind == "ImportFrom":
        pmodule, pnames = p.kids
        tmodule, tnames = t.kids
        if len(pnames) == 1 and pmodule.kids[0] == () and pnames[0].kids[0].kind == "Metavar":
            if len(tnames) == 1 and tnames[0].kids[0] is not None:  # Java's `import $X;`
                last = tnames[0].kids[0]
                full = make("Dotted", *span_of(tmodule, last), (*tmodule.kids[0], last))
                yield from m.bind(pnames[0].kids[0].value, full, env)
            return
        for found in _module_prefix(m, pmodule, tmodule, env):
            yield from m.unordered(pnames, tnames, found, less_ok=True)
        return
    if p.kind == "ImportAs":
        pmodule, palias = p.kids
        tmodule, talias = t.kids
        for found in _module_prefix(m, pmodule, tmodule, env):
            if palias is None:
                yield found
            else:
                yield from m.m(palias, talias, found)
        return
    yield from _module_prefix(m, p.kids[0], t.kids[0], env)


def _module_prefix(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    parts, code = p.kids[0], t.kids[0]
    if len(parts) == 1 and parts[0].kind == "Metavar":
        yield from m.bind(parts[0].value, t, env)
        return
    regex = _whole_path_regex(parts)
    if regex is not None:  # "=~/re/" is matched against the whole path
        separator = t.value if isinstance(t.value, str) else "."
        if all(c.kind == "Name" for c in code) and re.search(
                regex, separator.join(str(c.value) for c in code)):
            yield env
        return
    if len(parts) > len(code):
        return
    yield from m.seq(parts, code[:len(parts)], env)


def _whole_path_regex(parts: tuple[Node, ...]) -> str | None:
    if len(parts) == 1 and parts[0].kind == "Name":
        found = re.fullmatch(r"=~/(.*)/", str(parts[0].value), re.S)
        return found.group(1) if found else None
    return None


def _import_paths(node: Node, pattern: bool) -> list[tuple[str, ...]] | None:
    """What an import brings in, as dotted paths, when it has no alias and no
    metavariable."""
    def names(dotted: Node) -> tuple[str, ...] | None:
        out = []
        for part in dotted.kids[0]:
            if part.kind != "Name":
                return None
            out.append(part.value)
        return tuple(out)

    if node.kind == "ImportAs":
        module, alias = node.kids
        base = names(module)
        if base is None or (pattern and alias is not None):
            return None
        return [base]
    if node.kind == "ImportAll":
        base = names(node.kids[0])
        return [base] if base is not None else None
    if node.kind == "ImportFrom":
        module, items = node.kids
        base = names(module)
        if base is None:
            return None
        paths = []
        for item in items:
            name, alias = item.kids
            if name is None or name.kind != "Name" or (pattern and alias is not None):
                return None
            paths.append(base + (name.value,))
        return paths
    return None


def _prefix(pattern: tuple[str, ...], code: tuple[str, ...]) -> bool:
    return code[:len(pattern)] == pattern


__all__ = ["Facts"]
