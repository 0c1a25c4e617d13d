"""Which function declares a JavaScript name, so that ``$X`` bound to ``x`` does not match a
parameter ``x`` of a nested function (semgrep tells them apart by naming, its sids).

Function scope only: ``var``, ``let`` and ``const`` all count as declared in the enclosing
function (block scopes are not told apart), parameters in their function.
"""

from __future__ import annotations

from indexer.match.tree import Tree

FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration",
                       "function_expression", "generator_function", "arrow_function",
                       "method_definition"})
DECLARING = frozenset({"variable_declarator", "formal_parameters", "catch_clause",
                       "function_declaration", "generator_function_declaration",
                       "class_declaration"})
NAMES = frozenset({"identifier", "shorthand_property_identifier_pattern"})


class Scopes:
    """The names each function of a tree declares, computed on first use."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.declared: dict[int, frozenset[str]] = {}

    def declaring(self, index: int, name: str) -> int:
        """The grammar index of the innermost function around ``index`` that declares
        ``name`` (0: the module)."""
        tree = self.tree
        current = tree.parent(index)
        while current > 0:
            if tree.kind(current) in FUNCTIONS and name in self.names(current):
                return current
            current = tree.parent(current)
        return 0

    def names(self, function: int) -> frozenset[str]:
        found = self.declared.get(function)
        if found is None:
            found = self.declared[function] = frozenset(self._collect(function))
        return found

    def _collect(self, function: int) -> set[str]:
        """Names declared in a function: its parameters (an arrow's lone one too) and the
        declarations of its body, nested functions left out (their own names in)."""
        tree = self.tree
        names: set[str] = set()
        single = tree.child(function, "parameter")
        if single is not None:
            names.add(tree.text(single))
        stack = [c for c in tree.children(function)]
        while stack:
            node = stack.pop()
            kind = tree.kind(node)
            if kind in FUNCTIONS:
                named = tree.child(node, "name")
                if named is not None and kind.endswith("declaration"):
                    names.add(tree.text(named))
                continue
            if kind in DECLARING:
                names |= self._declared_by(node)
            stack.extend(tree.children(node))
        return names

    def _declared_by(self, node: int) -> set[str]:
        tree = self.tree
        kind = tree.kind(node)
        if kind == "variable_declarator" or kind in ("function_declaration",
                                                       "generator_function_declaration",
                                                       "class_declaration"):
            target = tree.child(node, "name")
        elif kind == "catch_clause":
            target = tree.child(node, "parameter")
        else:
            target = node
        if target is None:
            return set()
        return {tree.text(i) for i in _subtree(tree, target) if tree.kind(i) in NAMES}


def _subtree(tree: Tree, index: int) -> range:
    return range(index, tree.after[index])
