"""The normalized tree: a small vocabulary shared by patterns and code of every language.

A ``Node`` has a ``kind`` (below), a ``value`` (an identifier, an operator, a literal's value,
a container's flavour...), a byte span in its source, and ``kids``: a tuple laid out per kind
(``LAYOUT``) whose slots hold a Node, None, or a tuple of Nodes (a sequence). Converters
(``lang/``) build nodes of code lazily: a node's kids are made the first time they are read,
so matching a pattern converts only the parts of a file the pattern looks at.

Pattern-only kinds: ``Ellipsis`` (``...``), ``DeepEllipsis`` (``<... e ...>``), ``Metavar``
(``$X``), ``MetavarSeq`` (``$...X``), ``TypedMetavar`` (``(T $X)``), ``DotsChain``
(``$O. ... .m()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

LAYOUT: dict[str, tuple[str, ...]] = {
    # expressions
    "Name": (),  # value: the identifier
    "Attr": ("obj", "name"),  # name: a Name (or a pattern's Metavar)
    "Call": ("func", "args"),
    "New": ("cls", "args", "body"),
    "Kwarg": ("name", "value"),
    "Spread": ("value",),  # value: "*", "**", "..."
    "Str": (),  # value: the decoded text
    "Interp": ("parts",),  # f-string, template literal: Str pieces and expressions
    "Num": (),  # value: int, float or complex (text when it does not evaluate)
    "Bool": (),
    "Null": (),
    "Undefined": (),
    "Regex": (),  # value: (pattern, flags)
    "Char": (),
    "BinOp": ("left", "right"),  # value: the operator
    "UnOp": ("operand",),  # value: the operator ("not", "-", "++post", "typeof", ...)
    "Assign": ("target", "value"),  # value: "=" or ":="
    "AugAssign": ("target", "value"),  # value: the operator, "+=" ...
    "Subscript": ("obj", "index"),
    "Slice": ("lower", "upper", "step"),
    "Container": ("elems",),  # value: "list", "tuple", "set", "dict", "array"
    "Pair": ("key", "value"),
    "Record": ("fields",),  # an object literal: Prop, Spread, FuncDef fields
    "Prop": ("key", "value"),
    "Lambda": ("params", "body"),
    "IfExp": ("cond", "then", "else"),
    "Await": ("value",),
    "Yield": ("value",),  # value: "from" for `yield from`
    "Cast": ("type", "value"),
    "Comprehension": ("elt", "clauses"),  # value: "list", "set", "dict", "generator"
    "CompFor": ("target", "iter"),
    "CompIf": ("cond",),
    "Type": ("name", "args"),  # a type written out: name, type arguments
    "Other": ("kids",),  # value: (grammar kind, leaf text or "")
    # statements
    "ExprStmt": ("expr",),
    "Block": ("stmts",),
    "Module": ("stmts",),
    "If": ("cond", "then", "else"),
    "While": ("cond", "body", "else"),
    "DoWhile": ("body", "cond"),
    "For": ("target", "iter", "body", "else"),  # for-each; value: "in", "of"
    "ForC": ("init", "cond", "update", "body"),
    "Return": ("value",),
    "Throw": ("value", "cause"),
    "Break": ("label",),
    "Continue": ("label",),
    "Pass": (),
    "Try": ("body", "handlers", "else", "finally"),
    "Catch": ("type", "name", "body"),  # type: a tuple Container of the exception types
    "With": ("items", "body"),
    "WithItem": ("value", "target"),
    "FuncDef": ("name", "params", "ret", "body", "attrs", "tparams"),
    "Param": ("name", "type", "default", "attrs"),  # value: "", "*", "**", "..."
    "ClassDef": ("name", "bases", "impls", "body", "attrs", "tparams"),  # value: flavour
    "TypeDef": ("name", "type", "tparams"),  # type T U (Go); value: "alias" for type T = U
    "VarDef": ("name", "type", "value", "attrs"),
    "Decorator": ("name", "args"),  # @a.b(x): name a.b, args (x,); @a.b: args ()
    "Modifier": (),  # value: the keyword
    "ImportAs": ("module", "alias"),
    "ImportFrom": ("module", "names"),
    "ImportAll": ("module",),
    "Alias": ("name", "alias"),
    "Dotted": ("parts",),  # a module path: Name parts
    "Package": ("name",),
    "Assert": ("args",),
    "Delete": ("targets",),
    "Switch": ("subject", "cases"),
    "Case": ("values", "body"),  # value: "default" for the default case
    "Label": ("name", "stmt"),
    "Xml": ("tag", "attrs", "body"),  # JSX element: tag None for a fragment
    "XmlAttr": ("name", "value"),
    # pattern-only
    "Ellipsis": (),
    "DeepEllipsis": ("expr",),
    "Metavar": (),  # value: "$X"
    "MetavarSeq": (),  # value: "$...X"
    "TypedMetavar": ("type",),  # value: "$X"
    "DotsChain": ("obj",),
}
SLOTS: dict[str, dict[str, int]] = {
    kind: {name: i for i, name in enumerate(names)} for kind, names in LAYOUT.items()}
STATEMENTS = frozenset({
    "ExprStmt", "Block", "If", "While", "DoWhile", "For", "ForC", "Return", "Throw", "Break",
    "Continue", "Pass", "Try", "With", "FuncDef", "ClassDef", "TypeDef", "VarDef", "ImportAs",
    "ImportFrom", "ImportAll", "Package", "Assert", "Delete", "Switch", "Label", "Module"})
LITERALS = frozenset({"Str", "Num", "Bool", "Null", "Undefined", "Regex", "Char"})
PATTERN_ONLY = frozenset({"Ellipsis", "DeepEllipsis", "Metavar", "MetavarSeq", "TypedMetavar",
                          "DotsChain"})

Expander = Callable[[int], tuple[Any, ...]]


class Node:
    """One node of a normalized tree (see the module doc)."""

    __slots__ = ("kind", "value", "start", "end", "_kids", "_expand", "_raw")

    def __init__(self, kind: str, start: int, end: int, value: Any = None,
                 kids: tuple[Any, ...] | None = None, expand: Expander | None = None,
                 raw: int = -1) -> None:
        self.kind = kind
        self.value = value
        self.start = start
        self.end = end
        self._kids = kids
        self._expand = expand
        self._raw = raw

    @property
    def kids(self) -> tuple[Any, ...]:
        kids = self._kids
        if kids is None:
            expand = self._expand
            kids = self._kids = expand(self._raw) if expand is not None else ()
            self._expand = None
        return kids

    @property
    def raw(self) -> int:
        """The index of the grammar node it was made from (-1: made up)."""
        return self._raw

    def slot(self, name: str) -> Any:
        return self.kids[SLOTS[self.kind][name]]

    def __repr__(self) -> str:
        return dump(self)


def make(kind: str, start: int, end: int, *kids: Any, value: Any = None) -> Node:
    """A node whose kids are known now."""
    return Node(kind, start, end, value, kids)


def span_of(*parts: Any) -> tuple[int, int]:
    """The smallest span covering the given nodes (None and empty tuples skipped)."""
    starts, ends = [], []
    for part in parts:
        for node in (part if isinstance(part, tuple) else (part,)):
            if isinstance(node, Node) and node.end >= node.start >= 0:
                starts.append(node.start)
                ends.append(node.end)
    return (min(starts), max(ends)) if starts else (-1, -1)


def iter_kids(node: Node) -> Iterator[Node]:
    """The node children of a node, sequences flattened, in order."""
    for kid in node.kids:
        if isinstance(kid, Node):
            yield kid
        elif isinstance(kid, tuple):
            for item in kid:
                if isinstance(item, Node):
                    yield item


def walk(node: Node) -> Iterator[Node]:
    """The node and everything under it, in preorder, with an explicit stack."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(iter_kids(current))))


def same(a: Any, b: Any) -> bool:
    """Whether two trees are the same code: kinds, values and kids alike, spans ignored."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if isinstance(x, tuple) or isinstance(y, tuple):
            if not (isinstance(x, tuple) and isinstance(y, tuple)) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=False))
            continue
        if x is None or y is None or not isinstance(x, Node) or not isinstance(y, Node):
            if x != y:
                return False
            continue
        if x.kind != y.kind or x.value != y.value:
            return False
        xk, yk = x.kids, y.kids
        if len(xk) != len(yk):
            return False
        stack.extend(zip(xk, yk, strict=False))
    return True


def dump(node: Any, depth: int = 0, limit: int = 6) -> str:
    """A compact text form, for error messages and tests (bounded depth)."""
    if node is None:
        return "None"
    if isinstance(node, tuple):
        return "[" + ", ".join(dump(n, depth + 1, limit) for n in node) + "]"
    if not isinstance(node, Node):
        return repr(node)
    head = node.kind if node.value is None else f"{node.kind}:{node.value!r}"
    if depth >= limit:
        return head + "(...)"
    inner = [dump(k, depth + 1, limit) for k in node.kids]
    return f"{head}({', '.join(inner)})" if inner else head
