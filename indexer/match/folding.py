"""Constant folding, as semgrep's: the literal an expression evaluates to ("a" + "b" is
"ab", 2 * 8 is 16, an f-string of constants is a string), "some string" when only that is
known, and which expressions can stand for a name assigned them (symbolic propagation)."""

from __future__ import annotations

from typing import Any, NamedTuple

from indexer.match.node import LITERALS, Node, make

MAX_STRING = 1 << 16  # longer computed strings are "some string"


class Symbol(NamedTuple):
    """The value of a name assigned an expression that is not constant but can stand for
    it (semgrep's symbolic propagation): a name, a literal, an attribute, a call or
    ``new`` of such."""

    expr: Node


def some_string(start: int = -1, end: int = -1) -> Node:
    """The value of an expression known to be a string, not which one."""
    return make("Str", start, end, value=None)


def is_symbolic(node: Node | None) -> bool:
    """Whether an expression can stand for a name assigned it (semgrep's
    is_symbolic_expr)."""
    if node is None:
        return False
    kind = node.kind
    if kind in LITERALS or kind == "Name":
        return True
    if kind == "Cast":
        return is_symbolic(node.kids[1])
    if kind == "Attr":
        return is_symbolic(node.kids[0])
    if kind == "Subscript":
        return is_symbolic(node.kids[0]) and is_symbolic(node.kids[1])
    if kind == "Call":
        return is_symbolic(node.kids[0]) and all(is_symbolic(a) for a in node.kids[1])
    if kind == "New":
        return all(is_symbolic(a) for a in node.kids[1])
    if kind == "Kwarg":
        return is_symbolic(node.kids[1])
    if kind in ("UnOp", "BinOp"):  # calls of operators, to semgrep
        return all(is_symbolic(k) for k in node.kids)
    if kind in ("Type", "Other"):  # types, and conversions kept as the grammar has them
        return all(is_symbolic(k) for kid in node.kids
                   for k in (kid if isinstance(kid, tuple) else (kid,)) if k is not None)
    return False


def evaluate(node: Node | None, lookup: Any, text_plus_number: bool = False) -> Any:
    """The constant value of an expression: a literal Node, some_string(), or None;
    ``text_plus_number``: the language makes ``'a' + 1`` the string ``'a1'``."""
    if node is None:
        return None
    kind = node.kind
    if kind in LITERALS:
        return node
    if kind in ("Name", "Attr"):
        found = lookup(node)
        return found if isinstance(found, Node) else None
    if kind == "Interp":
        pieces = []
        for part in node.kids[0]:
            value = part if part.kind == "Str" else evaluate(part, lookup, text_plus_number)
            if not isinstance(value, Node) or value.kind not in ("Str", "Num", "Bool"):
                return None
            if value.value is None:
                return some_string(node.start, node.end)
            pieces.append(str(value.value))
        return make("Str", node.start, node.end, value="".join(pieces))
    if kind == "IfExp":  # c ? 'a' : 'b' is some string
        branches = [evaluate(k, lookup, text_plus_number) for k in node.kids[1:]]
        if all(isinstance(b, Node) and b.kind == "Str" for b in branches):
            same_text = branches[0].value == branches[1].value and branches[0].value is not None
            return branches[0] if same_text else some_string(node.start, node.end)
        return None
    if kind == "BinOp":
        left = evaluate(node.kids[0], lookup, text_plus_number)
        right = evaluate(node.kids[1], lookup, text_plus_number)
        op = str(node.value)
        if op in ("and", "&&"):  # `c and "s"`: "s" (or a falsy c: semgrep keeps "s")
            return right if isinstance(right, Node) and right.kind == "Str" else None
        if op in ("or", "||"):
            if isinstance(left, Node) and isinstance(right, Node) and left.kind == \
                    right.kind == "Str":
                return left if left.value == right.value else some_string(node.start, node.end)
            return None
        return _binary(node, op, left, right, text_plus_number)
    if kind == "UnOp" and node.value in ("-", "+"):
        operand = evaluate(node.kids[0], lookup)
        if isinstance(operand, Node) and operand.kind == "Num" and isinstance(
                operand.value, (int, float)):
            value = -operand.value if node.value == "-" else operand.value
            return make("Num", node.start, node.end, value=value)
    if kind == "Call" and node.kids[0] is not None and node.kids[0].kind == "Attr":
        if _is_string_format(node.kids[0]) and all(
                isinstance(evaluate(arg, lookup), Node) for arg in node.kids[1]):
            return some_string(node.start, node.end)  # Java's String.format of constants
    return None


def _is_string_format(func: Node) -> bool:
    """``String.format`` (or ``java.lang.String.format``)."""
    obj, name = func.kids
    if name is None or name.kind != "Name" or name.value != "format" or obj is None:
        return False
    if obj.kind == "Attr":
        obj = obj.kids[1]
    return obj is not None and obj.kind == "Name" and obj.value == "String"


def _binary(node: Node, op: str, left: Any, right: Any, text_plus_number: bool) -> Any:
    if not isinstance(left, Node) or not isinstance(right, Node):
        if op in ("*", "%") and any(isinstance(x, Node) and x.kind == "Str"
                                    for x in (left, right)):
            return some_string(node.start, node.end)  # "x" * n, "%s" % y
        return None
    if op == "+" and text_plus_number and {left.kind, right.kind} == {"Str", "Num"}:
        left, right = (make("Str", x.start, x.end, value=_number_text(x.value))
                       if x.kind == "Num" else x for x in (left, right))
    if left.kind == "Str" and right.kind == "Str" and op == "+":
        if left.value is None or right.value is None or \
                len(left.value) + len(right.value) > MAX_STRING:
            return some_string(node.start, node.end)
        return make("Str", node.start, node.end, value=left.value + right.value)
    if op in ("*", "%") and "Str" in (left.kind, right.kind):
        return some_string(node.start, node.end)
    if left.kind == "Num" and right.kind == "Num" and isinstance(left.value, (int, float)) \
            and isinstance(right.value, (int, float)):
        try:
            value = _arithmetic(op, left.value, right.value)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if value is not None:
            return make("Num", node.start, node.end, value=value)
    return None


def _number_text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, (int, float)) else None


def _arithmetic(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    if op == "%":
        return a % b
    if op == "**" and isinstance(b, int) and abs(b) <= 64:
        return a ** b
    if isinstance(a, int) and isinstance(b, int):
        if op == "<<" and 0 <= b <= 64:
            return a << b
        if op == ">>":
            return a >> b
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
    return None
