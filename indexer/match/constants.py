"""Constant propagation, as semgrep's: which expressions hold a known literal, or at least a
string, at the place they are used.

Each function (and the module's top level) is analysed once, on demand, flow-sensitively over
its structured statements: assignments set a name's value, the branches of an ``if`` join
(two different strings join to "some string", anything else that differs to "not constant",
a name assigned on one branch only is not constant after it), loops make what they assign
not constant, ``try`` sends the values before each statement that may raise to the
handlers, ``return``/``raise``/``break`` end a path. A name the function never assigns takes
its value from the module, when the module assigns it exactly once, from a constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from indexer.match.dataflow import NOT_CONSTANT, SCOPE_KINDS, Env, Flow
from indexer.match.folding import Symbol, evaluate, is_symbolic, some_string
from indexer.match.node import LITERALS, Node
from indexer.match.written import assigned_names, param_names, top_level_assignments

if TYPE_CHECKING:
    from indexer.match.facts import Facts

__all__ = ["NOT_CONSTANT", "Constants", "some_string"]
TEXT_PLUS_NUMBER = frozenset({"javascript", "typescript", "tsx", "java"})  # 'a' + 1 == 'a1'


class Constants:
    """The constant values of one file's name uses, analysed a scope at a time."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.converter = facts.converter
        self.at: dict[tuple[int, int], Any] = {}  # (start, end) of a name use -> value
        self.analysed: set[int] = set()
        self._globals: Env | None = None
        self._global_symbols: dict[str, Symbol] = {}
        self._locals: dict[int, set[str]] = {}
        self.text_plus_number = facts.language in TEXT_PLUS_NUMBER

    def value(self, node: Node) -> Node | None:
        """The literal (or some-string) value of an expression, or None."""
        if node.kind in LITERALS:
            return node
        if node.kind == "Name":
            return self.name_value(node)
        found = evaluate(node, self.name_value, self.text_plus_number)
        return found if isinstance(found, Node) else None

    def name_value(self, node: Node) -> Any:
        if node.kind != "Name":  # `this.x`: what the language knows of its fields
            return self.converter.outer_constant(node, self)
        scope = self._scope_of(node)
        if scope not in self.analysed:
            self.analysed.add(scope)
            self._analyse(scope)
        found = self.at.get((node.start, node.end))
        if found is None:
            if node.value in self._locals_of(scope):
                return None
            outer = self.converter.outer_constant(node, self)
            return outer if outer is not None else self.globals().get(node.value)
        return found if isinstance(found, Node) else None

    def symbol(self, node: Node) -> Node | None:
        """The expression a name stands for where it is used (symbolic propagation)."""
        if node.kind != "Name":
            return None
        self.name_value(node)  # analyses the scope
        found = self.at.get((node.start, node.end))
        if found is None and node.value not in self._locals_of(self._scope_of(node)):
            self.globals()
            found = self._global_symbols.get(node.value)  # assigned once at the top level
        return found.expr if isinstance(found, Symbol) else None

    def globals(self) -> Env:
        """Names the top level assigns exactly once, to a constant."""
        if self._globals is None:
            counts: dict[str, int] = {}
            values: Env = {}
            assigned_once: dict[str, Node] = {}
            root = self.converter.node(0)
            for statement in (root.kids[0] if root is not None and root.kids else ()):
                for name, assigned in top_level_assignments(statement):
                    counts[name] = counts.get(name, 0) + 1
                    if assigned is not None:
                        assigned_once[name] = assigned
                    values[name] = evaluate(assigned, lambda n: None, self.text_plus_number) \
                        if assigned else None
            self._globals = {n: v for n, v in values.items()
                             if counts[n] == 1 and isinstance(v, Node)}
            self._global_symbols = {
                n: Symbol(a) for n, a in assigned_once.items()
                if counts[n] == 1 and n not in self._globals and is_symbolic(a)}
        return self._globals

    def variable(self, node: Node) -> int | None:
        """Which variable a name refers to, as the index of the scope that binds it (0: the
        module, -1: no scope binds it); None when the name is not a variable (a field, a
        keyword) or was made up."""
        index = node.raw
        if index < 0 or not self.converter.is_variable(index):
            return None
        scope = self._scope_of(node)
        tree = self.converter.tree
        while True:
            if node.value in self._locals_of(scope):
                return scope
            if scope == 0:
                return -1
            scope = self._enclosing(tree.parent(scope))

    def _scopes(self) -> frozenset[str]:
        """The grammar kinds that open a scope (the converter's, else its functions')."""
        converter = self.converter
        if converter.SCOPES:
            return converter.SCOPES
        kinds: set[str] = set()
        for kind in SCOPE_KINDS:
            kinds |= converter.candidates(kind)
        return frozenset(kinds)

    def _enclosing(self, index: int) -> int:
        tree, scopes = self.converter.tree, self._scopes()
        while index > 0:
            if tree.kind(index) in scopes:
                return index
            index = tree.parent(index)
        return 0

    def _scope_of(self, node: Node) -> int:
        """The grammar index of the function (or 0, the module) a node is in."""
        if node.raw < 0:
            return 0
        return self._enclosing(self.converter.tree.parent(node.raw))

    def _locals_of(self, scope: int) -> set[str]:
        found = self._locals.get(scope)
        if found is None:
            node = self.converter.node(scope)
            found = self._locals[scope] = assigned_names(node) if node is not None else set()
        return found

    def _analyse(self, scope: int) -> None:
        node = self.converter.node(scope)
        if node is None:
            return
        flow = Flow(self, assigned_names(node) if node.kind != "Module" else set())
        try:
            if node.kind == "Module":
                flow.local |= assigned_names(node)
                flow.block(node.kids[0], {})
            elif node.kind == "FuncDef":
                env = {name: NOT_CONSTANT for name in param_names(node.kids[1])}
                body = node.kids[3]
                if body is not None:
                    flow.statement(body, env)
            elif node.kind == "Lambda":
                env = {name: NOT_CONSTANT for name in param_names(node.kids[0])}
                body = node.kids[1]
                if body is not None:
                    flow.statement(body, env) if body.kind == "Block" else flow.uses(body, env)
        except RecursionError:
            return


