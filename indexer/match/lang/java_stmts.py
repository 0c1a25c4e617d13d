"""tree-sitter-java statements to the normalized vocabulary.

``int a = 1, b;`` is two VarDefs; ``synchronized (l) {...}`` is a With of ``l``; ``try (R r
= ...) {...}`` is a With of the resources around the Try; ``finally {...}`` and ``static
{...}`` are Blocks of their own kind; a pattern's ``for (...)`` is a For of ellipses.
"""

from __future__ import annotations

from typing import Any

from indexer.match.lang.base import DOTS, rule
from indexer.match.lang.java_defs import JavaDefinitions
from indexer.match.node import Node, make, span_of

PARTIAL = "_CLPARTIAL_"  # what the pattern compiler's wrappers add to complete a partial pattern


class JavaStatements(JavaDefinitions):
    """Statements (see the module doc)."""

    @rule("expression_statement", makes=("ExprStmt", "Ellipsis"))
    def expression_statement(self, index: int) -> Node:
        return self.lazy("ExprStmt", index, self._statement_expression)

    def _statement_expression(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.node(named[0]) if named else None,)

    @rule("local_variable_declaration", "field_declaration", "constant_declaration",
          makes=("VarDef", "ExprStmt"))
    def variables(self, index: int) -> tuple[Node, ...] | Node:
        """``int a = 1, b;``: one VarDef per declarator (a pattern's ``...`` written as the
        declaration ``_CLDOTS_ _CLDOTS_;`` is an ellipsis statement)."""
        tree = self.tree
        declarators = tree.children_in(index, "declarator")
        kind = tree.child(index, "type")
        if self.pattern and kind is not None and self.text(kind) == DOTS and \
                len(declarators) == 1 and self.text(declarators[0]) == DOTS:
            dots = self.leaf("Ellipsis", index, None)
            return make("ExprStmt", *self.span(index), dots)
        attrs = self.modifiers(index)
        return tuple(self.declarator(d, kind, attrs, index if len(declarators) == 1 else d)
                     for d in declarators)

    def declarator(self, index: int, kind: int | None, attrs: tuple[Node, ...],
                   span: int) -> Node:
        tree = self.tree
        declared = self.node(kind)
        dims = tree.child(index, "dimensions")
        if dims is not None and declared is not None:
            for _ in range(self.text(dims).count("[")):
                declared = make("Type", *span_of(declared), declared, (), value="[]")
        name = self.node(tree.child(index, "name"))
        value = self.node(tree.child(index, "value"))
        return Node("VarDef", tree.starts[span], tree.ends[span], None,
                    (name, declared, value, attrs), None, span)

    @rule("if_statement", makes="If")
    def if_statement(self, index: int) -> Node:
        return self.lazy("If", index, self._if)

    def _if(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.node(tree.child(index, "condition")),
                self.node(tree.child(index, "consequence")),
                self.node(tree.child(index, "alternative")))

    @rule("for_statement", makes=("ForC", "For"))  # `for (...)` patterns are For
    def for_statement(self, index: int) -> Node:
        return self.lazy("ForC", index, self._for)

    def _for(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        init = self.nodes(tree.children_in(index, "init"))
        updates = self.nodes(tree.children_in(index, "update"))
        return (_one_or_block(init), self.node(tree.child(index, "condition")),
                _one_or_block(updates), self.node(tree.child(index, "body")))

    @rule("enhanced_for_statement", makes="For")
    def foreach(self, index: int) -> Node:
        return self.lazy("For", index, self._foreach, "in")

    def _foreach(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        name = tree.child(index, "name")
        if self.pattern and name is not None and self.text(name) == DOTS:  # for (...)
            return (self.leaf("Ellipsis", name, None), self.leaf("Ellipsis", name, None),
                    self.node(tree.child(index, "body")), None)
        target = Node("VarDef", *self.span(name), None,
                      (self.node(name), self.node(tree.child(index, "type")), None,
                       self.modifiers(index)), None, name) if name is not None else None
        return (target, self.node(tree.child(index, "value")),
                self.node(tree.child(index, "body")), None)

    @rule("try_statement", makes="Try")
    def try_statement(self, index: int) -> Node:
        return self.lazy("Try", index, self._try)

    def _try(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        handlers = [c for c in tree.children(index) if tree.kind(c) == "catch_clause"]
        final = next((c for c in tree.children(index) if tree.kind(c) == "finally_clause"),
                     None)
        if self.pattern and final is not None and PARTIAL in self.text(final):
            return self.node(tree.child(index, "body")), (self.leaf("Ellipsis", final, None),), \
                None, None  # `try {...}` alone: any handlers, any finally
        return (self.node(tree.child(index, "body")), self.nodes(handlers), None,
                self.node(final))

    @rule("finally_clause", "static_initializer", makes="Block")
    def flavoured_block(self, index: int) -> Node:
        """``finally {...}`` and ``static {...}``: blocks of their own kind."""
        flavour = "finally" if self.tree.kind(index) == "finally_clause" else "static"
        return self.lazy("Block", index, self._inner_block, flavour)

    def _inner_block(self, index: int) -> tuple[Any, ...]:
        inner = next(iter(self.named(index)), None)
        return (self.nodes(self.named(inner)) if inner is not None else (),)

    @rule("try_with_resources_statement", makes=("With", "Try"))
    def try_resources(self, index: int) -> Node:
        return self.lazy("With", index, self._try_resources)

    def _try_resources(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        resources = tree.child(index, "resources")
        items = tuple(self._resource(r) for r in self.named(resources)) \
            if resources is not None else ()
        body = Node("Try", *self.span(index), None, None, self._try, index)
        return items, body

    def _resource(self, index: int) -> Node:
        tree = self.tree
        name = tree.child(index, "name")
        if name is None:
            value = self.node(self.named(index)[0]) if self.named(index) else None
            return make("WithItem", *self.span(index), value, None)
        var = Node("VarDef", *self.span(index), None,
                   (self.node(name), self.node(tree.child(index, "type")),
                    self.node(tree.child(index, "value")), self.modifiers(index)), None, index)
        return make("WithItem", *self.span(index), var, None)

    @rule("catch_clause", makes="Catch")
    def catch(self, index: int) -> Node:
        return self.lazy("Catch", index, self._catch)

    def _catch(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        param = next((c for c in tree.children(index)
                      if tree.kind(c) == "catch_formal_parameter"), None)
        kind = name = None
        if param is not None:
            types = next((c for c in tree.children(param) if tree.kind(c) == "catch_type"),
                         None)
            listed = self.nodes(self.named(types)) if types is not None else ()
            kind = listed[0] if len(listed) == 1 else (
                make("Type", *span_of(listed), None, listed, value="|") if listed else None)
            name = self.node(tree.child(param, "name"))
            if name is not None and kind is not None and kind.kind == "Ellipsis":
                name = None
        return kind, name, self.node(tree.child(index, "body"))

    @rule("synchronized_statement", makes="With")
    def synchronized(self, index: int) -> Node:
        return self.lazy("With", index, self._synchronized, "synchronized")

    def _synchronized(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        lock = next((c for c in self.named(index) if c != tree.child(index, "body")), None)
        value = self.node(lock)
        return ((make("WithItem", *span_of(value), value, None),),
                self.node(tree.child(index, "body")))

    @rule("switch_expression", makes="Switch")
    def switch(self, index: int) -> Node:
        return self.lazy("Switch", index, self._switch)

    def _switch(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        body = tree.child(index, "body")
        cases = self.nodes(self.named(body)) if body is not None else ()
        return self.node(tree.child(index, "condition")), cases

    @rule("switch_block_statement_group", "switch_rule", makes="Case")
    def case(self, index: int) -> Node:
        tree = self.tree
        label = next((c for c in self.named(index) if tree.kind(c) == "switch_label"), None)
        default = label is not None and tree.text(label).startswith("default")
        return self.lazy("Case", index, self._case, "default" if default else None)

    def _case(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        named = self.named(index)
        labels = [c for c in named if tree.kind(c) == "switch_label"]
        values: list[Node] = []
        for label in labels:
            values.extend(self.nodes(self.named(label)))
        body = self.nodes(c for c in named if tree.kind(c) != "switch_label")
        return tuple(values), make("Block", *span_of(body), body)


def _one_or_block(nodes: tuple[Node, ...]) -> Node | None:
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    return make("Block", *span_of(nodes), nodes)
