"""Every match of one compiled pattern in one file.

Candidates come from the grammar kinds that can make the pattern's root (C-speed scans of
the kind array): an expression pattern is tried at each node of those kinds, a statement
pattern at each statement of its kind, a sequence of statements at each position of each
statement list. Only candidates are converted to the normalized tree, and only as deep as
the pattern looks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from indexer.match.facts import Facts
from indexer.match.lang import converter_for
from indexer.match.matcher import Env, Matcher
from indexer.match.node import LITERALS, STATEMENTS, Node
from indexer.match.pattern import Pattern
from indexer.match.tree import Tree

EXPRESSIONS = frozenset({
    "Name", "Attr", "Call", "New", "Str", "Interp", "Num", "Bool", "Null", "Undefined",
    "Regex", "Char", "BinOp", "UnOp", "Assign", "AugAssign", "Subscript", "Container",
    "Record", "Lambda", "IfExp", "Await", "Yield", "Cast", "Comprehension", "Other", "Spread",
    "Slice", "Xml"})
ANYTHING = frozenset({"Metavar", "TypedMetavar", "DeepEllipsis", "Ellipsis"})
MAX_MATCHES_PER_NODE = 64  # ways one node can match one pattern (bounds a combinatorial blowup)


class Match(NamedTuple):
    start: int
    end: int
    env: Env


class Target:
    """One file ready to be matched: its tree, converter, facts and matcher."""

    def __init__(self, tree: Tree, options: dict[str, Any] | None = None) -> None:
        self.tree = tree
        self.source = tree.source
        self.language = tree.language
        self.converter = converter_for(tree.language)(tree)
        self.facts = Facts(self.converter)
        self.matcher = Matcher(self.facts, options)
        self._candidates: dict[frozenset[str], list[int]] = {}

    def position(self, offset: int) -> tuple[int, int, int]:
        return self.tree.position(offset)

    def of_kinds(self, kinds: frozenset[str]) -> list[int]:
        found = self._candidates.get(kinds)
        if found is None:
            found = self._candidates[kinds] = self.tree.of_kinds(kinds)
        return found


def find(pattern: Pattern, target: Target, inside: bool = False,
         env: Env | None = None) -> list[Match]:
    """Every match of ``pattern`` in ``target``, in source order, each range once per set of
    bindings; ``env`` holds bindings a match must agree with (a metavariable-pattern's)."""
    start = env or {}
    target.matcher.set_roots(pattern.node)
    if pattern.shape == "stmts":
        found = _find_sequences(pattern, target, inside, start)
    else:
        found = _find_nodes(pattern, target, start)
    unique: dict[tuple[int, int, str], Match] = {}
    for match in found:
        unique.setdefault((match.start, match.end, _env_key(match.env)), match)
    return sorted(unique.values(), key=lambda m: (m.start, m.end))


def _find_nodes(pattern: Pattern, target: Target, start: Env) -> list[Match]:
    root = pattern.node
    converter, matcher = target.converter, target.matcher
    found = []
    expression_only = pattern.shape == "expr"
    attributes = matcher.options.get("attr_expr", True)
    types_too = root.kind in ("Name", "Attr")  # a written type is found by its name only
    kinds = target.tree.kinds
    type_kinds = {k for k, name in target.tree.kind_names.items() if name in
                  converter.TYPE_KINDS}
    for index in target.of_kinds(_candidate_kinds(root, target)):
        if expression_only and (not converter.in_expression(index) or (
                not types_too and kinds[index] in type_kinds)) or \
                converter.shadowed(index) or not attributes and converter.in_attribute(index):
            continue
        for node in converter.nodes((index,)):  # one node, or a splice of several
            if expression_only and node.kind == "ExprStmt" and node.kids[0] is not None:
                node = node.kids[0]  # a statement that is one expression (Go's x := 1)
            if expression_only and node.kind in STATEMENTS and root.kind in (
                    "Metavar", "TypedMetavar"):
                continue  # $X is an expression, not a declaration
            count = 0
            for env in matcher.m(root, node, start):
                found.append(Match(node.start, node.end, env))
                count += 1
                if count >= MAX_MATCHES_PER_NODE:
                    break
    return found


def _candidate_kinds(root: Node, target: Target) -> frozenset[str]:
    converter = target.converter
    kind = root.kind
    if kind in ANYTHING:
        kinds: set[str] = set()
        for expression in EXPRESSIONS:
            kinds |= converter.candidates(expression)
        if kind == "DeepEllipsis":  # a declaration is an assignment too
            kinds |= converter.candidates("VarDef")
        return frozenset(kinds) if kinds else frozenset(
            target.tree.kind_names[k] for k in target.tree.named_kinds)
    if kind == "Other":
        return frozenset({root.value[0]})
    kinds = set(converter.candidates(kind))
    if kind in LITERALS or kind in ("Attr", "Interp", "BinOp"):
        kinds |= converter.candidates("Name")  # constants and imported aliases
    if kind in LITERALS:  # expressions constant propagation evaluates
        for folded in ("BinOp", "Interp", "IfExp"):
            kinds |= converter.candidates(folded)
    if kind == "Assign":
        kinds |= converter.candidates("VarDef")
    if kind == "Container":
        kinds |= converter.candidates("Comprehension")
    if kind in ("ForC", "FuncDef"):  # for (...) and function ...() (equiv.cross_kind)
        kinds |= converter.candidates("For" if kind == "ForC" else "Lambda")
    if kind in ("ImportAs", "ImportFrom", "ImportAll"):
        for other in ("ImportAs", "ImportFrom", "ImportAll"):
            kinds |= converter.candidates(other)
    if kind == "ExprStmt":
        kinds |= converter.candidates("Return") | converter.candidates("VarDef")
    return frozenset(kinds)


def _find_sequences(pattern: Pattern, target: Target, inside: bool,
                    start: Env) -> list[Match]:
    converter, matcher = target.converter, target.matcher
    wanted = pattern.node.kids[0]
    kinds = converter.candidates("Block") | converter.candidates("Module")
    found = []
    for index in target.of_kinds(kinds):
        node = converter.node(index)
        if node is None or node.kind not in ("Block", "Module"):
            continue
        statements = node.kids[0]
        for position in range(len(statements)):
            rest = statements[position:]
            count = 0
            for env, last in matcher.stmts(wanted, rest, start, less_ok=True, inside=inside):
                end = last.end if last is not None else rest[0].end
                found.append(Match(rest[0].start, end, env))
                count += 1
                if count >= MAX_MATCHES_PER_NODE:
                    break
    return found


def _env_key(env: Env) -> str:
    parts = []
    for name in sorted(env):
        value = env[name]
        if isinstance(value, tuple):
            parts.append(f"{name}={[(v.start, v.end) for v in value]}")
        else:
            parts.append(f"{name}={value.start},{value.end},{value.kind}")
    return ";".join(parts)
