"""The names a piece of code writes: assignment targets, parameters, loop and handler
variables, definitions (for constant propagation and for telling variables apart)."""

from __future__ import annotations

from typing import Any

from indexer.match.node import Node, iter_kids

INCREMENTS = frozenset({"++pre", "--pre", "++post", "--post", "++", "--"})


def assigned_names(scope: Node) -> set[str]:
    """Every name a scope (or a statement) writes, nested scopes left out (their parameters
    and bodies are theirs), its own parameters included."""
    names: set[str] = set()
    if scope.kind == "FuncDef":
        names |= set(param_names(scope.kids[1]))
        roots: list[Any] = [scope.kids[3]]
    elif scope.kind == "Lambda":
        names |= set(param_names(scope.kids[0]))
        roots = [scope.kids[1]]
    else:
        roots = [scope]
    stack = [r for r in roots if isinstance(r, Node)]
    while stack:
        node = stack.pop()
        kind = node.kind
        if kind in ("Assign", "AugAssign"):
            names |= set(target_names(node.kids[0]))
        elif kind == "VarDef" and node.kids[0] is not None:
            names |= set(target_names(node.kids[0]))
        elif kind == "For":
            names |= set(target_names(node.kids[0]))
        elif kind == "Catch":
            names |= set(target_names(node.kids[1]))
        elif kind == "WithItem":
            names |= set(target_names(node.kids[1]))
        elif kind in ("FuncDef", "ClassDef"):
            names |= set(target_names(node.kids[0]))
            continue
        elif kind == "Lambda":
            continue
        elif kind == "UnOp" and str(node.value) in INCREMENTS:
            names |= set(target_names(node.kids[0]))
        elif kind in ("ImportAs", "ImportFrom"):
            continue
        stack.extend(iter_kids(node))
    return names


def param_names(params: tuple[Node, ...]) -> list[str]:
    names = []
    for param in params:
        target = param.kids[0] if param.kind == "Param" and param.kids else param
        names.extend(target_names(target))
    return names


def target_names(target: Node | None) -> list[str]:
    if target is None:
        return []
    if target.kind == "Name":
        return [str(target.value)]
    if target.kind in ("Container", "Record"):
        out = []
        for item in target.kids[0]:
            out.extend(target_names(item.kids[1] if item.kind in ("Prop", "Pair") else item))
        return out
    if target.kind == "Spread":
        return target_names(target.kids[0])
    return []


def destructure(target: Node | None, value: Node | None) -> list[tuple[str, Node | None]]:
    if target is None:
        return []
    if target.kind == "Name":
        return [(str(target.value), value)]
    if target.kind == "Container":
        items = target.kids[0]
        if value is not None and value.kind == "Container" and len(value.kids[0]) == len(items):
            out = []
            for item, assigned in zip(items, value.kids[0], strict=True):
                out.extend(destructure(item, assigned))
            return out
        return [(name, None) for name in target_names(target)]
    return [(name, None) for name in target_names(target)]


def top_level_assignments(statement: Node) -> list[tuple[str, Node | None]]:
    """(name, value) of the module-level assignments a statement makes."""
    if statement.kind == "ExprStmt" and statement.kids[0] is not None:
        inner = statement.kids[0]
        if inner.kind == "Assign":
            return destructure(inner.kids[0], inner.kids[1])
        if inner.kind == "AugAssign":
            written: list[tuple[str, Node | None]] = [
                (name, None) for name in target_names(inner.kids[0])]
            return written * 2
        return []
    if statement.kind == "VarDef" and statement.kids[0] is not None:
        return destructure(statement.kids[0], statement.kids[2])
    if statement.kind in ("FuncDef", "ClassDef"):
        return [(name, None) for name in target_names(statement.kids[0])]
    if statement.kind in ("If", "For", "While", "Try", "With", "Block"):
        return [(name, None) for name in assigned_names(statement)]
    return []
