"""The sub-nodes semgrep's matching walks into: the expressions inside an expression or a
statement (deep and implicit), the statements nested in statements (deep ``...``), the
prefixes of a method chain."""

from __future__ import annotations

from collections.abc import Iterator

from indexer.match.node import LITERALS, STATEMENTS, Node, iter_kids, make


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
