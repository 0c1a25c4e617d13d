"""``metavariable-comparison``: semgrep's small expression language, evaluated safely.

The language is Python's expression syntax restricted to literals, metavariables, arithmetic,
comparisons, ``and``/``or``/``not``, ``in``, bitwise operators, lists, and the functions
``int()``, ``float()``, ``str()``, ``len()``, ``re.match()``, ``today()`` and ``strptime()``.
It is parsed with ``ast`` and interpreted node by node: nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import datetime
import functools
import operator
import re
from collections.abc import Callable
from typing import Any

METAVARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
MAX_POWER = 4096
BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.eq, ast.IsNot: operator.ne,
}


class ComparisonError(ValueError):
    """The comparison does not parse, or uses something outside the language."""


@functools.lru_cache(maxsize=1024)
def parse_comparison(text: str) -> ast.Expression:
    source = METAVARIABLE.sub(lambda m: "_mv_" + m.group(1), " ".join(text.split()))
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ComparisonError(f"{text.strip()!r} does not parse: {exc.msg}") from None


def evaluate_comparison(text: str, values: dict[str, Any]) -> bool:
    """Whether the comparison holds with ``values`` (metavariable -> Python value); False
    when it cannot be evaluated (a metavariable that is not bound, a type mismatch)."""
    tree = parse_comparison(text)
    names = {"_mv_" + name[1:]: value for name, value in values.items()}
    try:
        return bool(_eval(tree.body, names))
    except (ComparisonError, TypeError, ValueError, ZeroDivisionError, OverflowError,
            KeyError, AttributeError, re.error):
        return False


def _eval(node: ast.AST, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise ComparisonError(f"unknown name {node.id}")
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, names) for v in node.values)
        return any(_eval(v, names) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        if isinstance(node.op, ast.Invert):
            return ~value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, names), _eval(node.right, names)
        if isinstance(node.op, ast.Pow):
            if isinstance(right, int) and abs(right) > MAX_POWER:
                raise ComparisonError("exponent too large")
            return left ** right
        function = BINARY.get(type(node.op))
        if function is not None:
            return function(left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, comparator in zip(node.ops, node.comparators, strict=False):
            right = _eval(comparator, names)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [_eval(e, names) for e in node.elts]
    if isinstance(node, ast.Call):
        return _call(node, names)
    raise ComparisonError(f"{type(node).__name__} is not part of the comparison language")


def _call(node: ast.Call, names: dict[str, Any]) -> Any:
    args = [_eval(a, names) for a in node.args]
    function = node.func
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and \
            function.value.id == "re" and function.attr == "match":
        from indexer.match.regexes import match

        return match(str(args[0]), str(args[1])) is not None
    if not isinstance(function, ast.Name):
        raise ComparisonError("only int(), float(), str(), len(), re.match(), today() and "
                              "strptime() may be called")
    name = function.id
    if name == "int":
        value = args[0]
        return int(value, args[1]) if len(args) > 1 else _to_int(value)
    if name == "float":
        return float(args[0])
    if name == "str":
        return str(args[0])
    if name == "len":
        return len(args[0])
    if name == "today":
        return datetime.date.today()
    if name == "strptime":
        return datetime.datetime.strptime(str(args[0]).strip("\"'"),
                                          str(args[1]) if len(args) > 1 else "%Y-%m-%d").date()
    raise ComparisonError(f"unknown function {name}()")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    return int(text, 0) if text[:2].lower() in ("0x", "0o", "0b") else int(text)
