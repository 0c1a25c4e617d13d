"""Java fields that hold a constant, as semgrep's constant propagation of class attributes
has it: a ``final`` field initialized from a literal, and a ``private`` field assigned
exactly once (its initializer, a static initializer, or the class's only constructor).
Inside the class, ``x`` and ``this.x`` then hold that value where no local shadows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from indexer.match.folding import evaluate
from indexer.match.node import Node

if TYPE_CHECKING:
    from indexer.match.lang.base import Converter

CLASS_BODIES = frozenset({"class_body", "interface_body", "enum_body", "annotation_type_body"})
WRITES = frozenset({"assignment_expression", "update_expression"})


class FieldConstants:
    """The constant fields of each class of one file, computed on demand."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self.tree = converter.tree
        self.by_class: dict[int, dict[str, Node]] = {}

    def value(self, node: Node) -> Node | None:
        name = field_name(node)
        if name is None or node.raw < 0:
            return None
        body = self.enclosing_body(node.raw)
        if body < 0:
            return None
        table = self.by_class.get(body)
        if table is None:
            table = self.by_class[body] = self.constants_of(body)
        return table.get(name)

    def enclosing_body(self, index: int) -> int:
        tree = self.tree
        parent = tree.parent(index)
        while parent >= 0 and tree.kind(parent) not in CLASS_BODIES:
            parent = tree.parent(parent)
        return parent

    def constants_of(self, body: int) -> dict[str, Node]:
        """The fields of one class body that hold a constant."""
        fields: dict[str, tuple[set[str], Node | None]] = {}
        constructors = 0
        for member in self.converter.named(body):
            kind = self.tree.kind(member)
            if kind == "constructor_declaration":
                constructors += 1
            elif kind == "field_declaration":
                for var in self.converter.nodes([member]):
                    if var.kind == "VarDef" and var.kids[0] is not None:
                        keywords = {a.value for a in var.kids[3] if a.kind == "Modifier"}
                        fields[str(var.kids[0].value)] = (keywords, var.kids[2])
        writes = self.writes_in(body)
        table = {}
        for name, (keywords, init) in fields.items():
            found = self.constant(keywords, init, writes.get(name, []), constructors)
            if found is not None:
                table[name] = found
        return table

    def constant(self, keywords: set[str], init: Node | None,
                 writes: list[tuple[str, Node | None]], constructors: int) -> Node | None:
        if "final" in keywords and init is not None:
            return literal(init)
        if "private" not in keywords:
            return None
        if init is not None:
            return literal(init) if not writes else None
        if len(writes) != 1:
            return None
        place, value = writes[0]
        if place == "static" or (place == "constructor" and constructors == 1):
            return literal(value)
        return None

    def writes_in(self, body: int) -> dict[str, list[tuple[str, Node | None]]]:
        """The assignments to each name in the class (not its nested classes): where they
        are (``static``, ``constructor``, ``method``) and the value assigned."""
        tree = self.tree
        start, end = tree.starts[body], tree.ends[body]
        out: dict[str, list[tuple[str, Node | None]]] = {}
        for index in tree.of_kinds(WRITES):
            if not start <= tree.starts[index] < end:
                continue
            place = self.place_of(index, body)
            if place is None:
                continue
            written = self.converter.node(index)
            if written is None:
                continue
            target = written.kids[0]
            value = written.kids[1] if written.kind == "Assign" else None
            name = field_name(target) if isinstance(target, Node) else None
            if name is not None:
                out.setdefault(name, []).append((place, value))
        return out

    def place_of(self, index: int, body: int) -> str | None:
        tree = self.tree
        place = "method"
        parent = tree.parent(index)
        while parent >= 0 and parent != body:
            kind = tree.kind(parent)
            if kind in CLASS_BODIES:
                return None  # a nested class's own assignment
            if kind == "constructor_declaration":
                place = "constructor"
            elif kind == "static_initializer":
                place = "static"
            elif kind in ("method_declaration", "lambda_expression"):
                place = "method"
            parent = tree.parent(parent)
        return place


def field_name(node: Node | None) -> str | None:
    """``x`` or ``this.x``: the field name it may stand for."""
    if node is None:
        return None
    if node.kind == "Name":
        return str(node.value)
    if node.kind == "Attr":
        obj, name = node.kids
        if obj is not None and obj.kind == "Name" and obj.value == "this" and \
                name is not None and name.kind == "Name":
            return str(name.value)
    return None


def literal(node: Node | None) -> Node | None:
    found: Any = evaluate(node, lambda _name: None) if node is not None else None
    return found if isinstance(found, Node) else None
