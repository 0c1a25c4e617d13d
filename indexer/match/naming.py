"""Which declaration each variable use refers to (semgrep's Naming_AST, for the languages
whose converter asks for it with ``NAMING``): two uses of ``x`` bound to one metavariable are
the same code only when they refer to the same declaration; and a name's type is its own
declaration's.

One walk over the file's normalized tree, in source order, with a stack of scopes: a
function (its parameters), each branch of an ``if``, the file, and the imported names
last. Declarations: ``var`` names, parameters, a for-each's targets, import aliases, and
``x := e`` with one name (Go: it always declares a new variable; ``a, b := ...`` may
reuse, so semgrep leaves those names alone). A use is looked up when the walk meets it, so
``i := i`` reads the outer ``i`` and declares a new one. Struct fields, types, field names
and labels are not variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from indexer.match.node import Node, iter_kids

Span = tuple[int, int]
SKIPPED = frozenset({"ClassDef", "TypeDef", "Type", "Label", "Break", "Continue", "Package",
                     "ImportAll", "ImportFrom"})


class Naming:
    """Use or declaration (by span) -> the number of the declaration it refers to."""

    def __init__(self, root: Node | None) -> None:
        self.refers: dict[Span, int] = {}
        self.declared: dict[int, tuple[Node | None, Node | None]] = {}  # -> (type, value)
        self.scopes: list[dict[str, int]] = [{}]  # the file's, then functions and branches
        self.imported: dict[str, int] = {}
        self.count = 0
        if root is not None:
            self.walk(root)

    def declaration(self, name: Node) -> tuple[Node | None, Node | None] | None:
        """The declared type and initial value of the variable a name refers to (each
        None when not written), or None when the name is not resolved."""
        number = self.refers.get((name.start, name.end))
        return self.declared.get(number, (None, None)) if number is not None else None

    def same(self, a: Node, b: Node) -> bool:
        """Whether two names may be the same variable (unknown counts as may)."""
        first = self.refers.get((a.start, a.end))
        second = self.refers.get((b.start, b.end))
        return first is None or second is None or first == second

    # ---- the walk: an explicit stack of nodes and scope actions

    def walk(self, root: Node) -> None:
        stack: list[Any] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                action, argument = item
                if action == "pop":
                    self.scopes.pop()
                elif action == "push":
                    self.scopes.append({})
                else:
                    name, declared, value = argument
                    self.declare(name, declared, value, imported=action == "import")
                continue
            stack.extend(reversed(list(self.steps(item))))

    def steps(self, node: Node) -> Iterator[Any]:
        """What to do at a node, in order: nodes to visit, scope and declare actions."""
        kind, kids = node.kind, node.kids
        if kind == "Name":
            self.use(node)
        elif kind in SKIPPED:
            return
        elif kind in ("FuncDef", "Lambda"):
            params, body = (kids[1], kids[3]) if kind == "FuncDef" else kids
            yield ("push", None)
            for param in params:
                if param.kind == "Param" and param.kids[0] is not None:
                    yield ("declare", (param.kids[0], param.kids[1], None))
            if body is not None:
                yield body
            yield ("pop", None)
        elif kind == "VarDef":
            if kids[2] is not None:
                yield kids[2]
            if kids[0] is not None:
                yield ("declare", (kids[0], kids[1], kids[2]))
        elif kind == "Assign" and node.value == ":=" and kids[0] is not None and \
                kids[0].kind == "Name":
            if kids[1] is not None:
                yield kids[1]
            yield ("declare", (kids[0], None, kids[1]))
        elif kind == "For":
            for target in _names(kids[0]):
                yield ("declare", (target, None, None))
            yield from (k for k in kids[1:] if k is not None)
        elif kind == "If":
            if kids[0] is not None:
                yield kids[0]
            for branch in kids[1:]:
                if branch is not None:
                    yield from (("push", None), branch, ("pop", None))
        elif kind == "ImportAs":
            if kids[1] is not None and kids[1].kind == "Name":
                yield ("import", (kids[1], None, None))
        elif kind == "Attr":
            if kids[0] is not None:
                yield kids[0]
        elif kind == "Kwarg":
            if kids[1] is not None:
                yield kids[1]
        else:
            yield from iter_kids(node)

    def declare(self, name: Node, declared: Node | None, value: Node | None,
                imported: bool = False) -> None:
        if name.kind != "Name":
            return
        self.count += 1
        (self.imported if imported else self.scopes[-1])[name.value] = self.count
        self.refers[(name.start, name.end)] = self.count
        self.declared[self.count] = (declared, value)

    def use(self, name: Node) -> None:
        for scope in reversed(self.scopes):
            if name.value in scope:
                self.refers[(name.start, name.end)] = scope[name.value]
                return
        if name.value in self.imported:
            self.refers[(name.start, name.end)] = self.imported[name.value]


def _names(target: Node | None) -> list[Node]:
    if target is None:
        return []
    if target.kind == "Name":
        return [target]
    if target.kind == "Container":
        return [item for item in target.kids[0] if item.kind == "Name"]
    return []
