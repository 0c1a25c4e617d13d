"""Match compiled patterns against a stored AST (flat preorder arrays plus the source bytes).

The target tree is never walked recursively: candidates are found by kind with ``list.index``
(a C scan), children are read off the depth array on demand, and only the pattern (a few
nodes) drives the recursion.
"""

from __future__ import annotations

import bisect
from itertools import compress, repeat
from typing import NamedTuple

from indexer.codec import FlatAst
from indexer.match.pattern import PUNCTUATION, Pattern, PNode

Bindings = dict[str, tuple[int, int]]  # metavariable -> (start, end) byte offsets
NOT_FOUND = -1


class Match(NamedTuple):
    start: int
    end: int
    bindings: Bindings


class Target:
    """A decoded file: the flat tree, its source, and lookups built lazily."""

    def __init__(self, tree: FlatAst, source: bytes) -> None:
        self.tree = tree
        self.source = source
        self.kinds = tree.kinds
        self.depths = tree.depths
        self.starts = tree.starts
        self.ends = tree.ends
        self._ids: dict[str, list[int]] = {}
        for kind_id, (name, _named) in tree.types.items():
            self._ids.setdefault(name, []).append(kind_id)
        self._children: dict[int, list[int]] = {}
        self._of_kind: dict[str, list[int]] = {}
        self._line_starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int, int]:
        """(line, column, offset), 1-based line and column, from a table built once."""
        if self._line_starts is None:
            import re

            self._line_starts = [0] + [m.end() for m in re.finditer(b"\n", self.source)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1, offset

    def text(self, node: int) -> bytes:
        return self.source[self.starts[node]:self.ends[node]]

    def name(self, node: int) -> str:
        return self.tree.types[self.kinds[node]][0]

    def named(self, node: int) -> bool:
        return self.tree.types[self.kinds[node]][1]

    def of_kind(self, kind: str) -> list[int]:
        """Every node of a kind, in preorder (C-speed scans of the kind array), cached: many
        rules start from the same kind."""
        cached = self._of_kind.get(kind)
        if cached is not None:
            return cached
        found: list[int] = []
        for kind_id in self._ids.get(kind, ()):
            index = -1
            kinds = self.kinds
            try:
                while True:
                    index = kinds.index(kind_id, index + 1)
                    found.append(index)
            except ValueError:
                pass
        found.sort()
        self._of_kind[kind] = found
        return found

    def containing(self, nodes: list[int], needles: tuple[bytes, ...]) -> list[int]:
        """The nodes whose text contains every needle; the loop runs in C (map/compress)."""
        source, by_start, by_end = self.source, self.starts.__getitem__, self.ends.__getitem__
        for needle in needles:
            if not nodes:
                break
            hits = map(source.find, repeat(needle), map(by_start, nodes), map(by_end, nodes))
            nodes = list(compress(nodes, map(NOT_FOUND.__ne__, hits)))
        return nodes

    def children(self, node: int) -> list[int]:
        """All children (named and anonymous) of a node, read off the depths."""
        cached = self._children.get(node)
        if cached is not None:
            return cached
        depths, depth, found = self.depths, self.depths[node] + 1, []
        index, end = node + 1, len(depths)
        while index < end and depths[index] >= depth:
            if depths[index] == depth:
                found.append(index)
            index += 1
        self._children[node] = found
        return found

    def named_children(self, node: int) -> list[int]:
        return [c for c in self.children(node) if self.named(c) and self.name(c) != "comment"]

    def anon(self, node: int) -> tuple[str, ...]:
        return tuple(name for name in (self.name(c) for c in self.children(node)
                                       if not self.named(c)) if name not in PUNCTUATION)

    def parent(self, node: int) -> int:
        depth = self.depths[node] - 1
        index = node - 1
        while index >= 0 and self.depths[index] != depth:
            index -= 1
        return index


def find(pattern: Pattern, target: Target) -> list[Match]:
    """Every match of ``pattern`` in ``target``, in source order."""
    if len(pattern.nodes) == 1:
        return _find_node(pattern.nodes[0], target)
    return _find_sequence(pattern.nodes, target)


def _find_node(root: PNode, target: Target) -> list[Match]:
    if root.metavariable or root.ellipsis:
        candidates = [i for i in range(len(target.kinds)) if target.named(i)]
    else:
        candidates = target.of_kind(root.kind)
    found = []
    # a literal of the pattern must at least occur in the node's text: cheap, and sound
    for node in target.containing(candidates, root.needles):
        bindings = _match(root, node, target, {})
        if bindings is not None:
            found.append(Match(target.starts[node], target.ends[node], bindings))
    return found


def _find_sequence(nodes: tuple[PNode, ...], target: Target) -> list[Match]:
    """A run of statements: tried at each child of every node holding a first-statement
    candidate."""
    first = next((n for n in nodes if not n.ellipsis and not n.metavariable), None)
    if first is None:
        return []
    parents = sorted({target.parent(i) for i in target.of_kind(first.kind)} - {-1})
    found = []
    for parent in parents:
        children = target.named_children(parent)
        for start in range(len(children)):
            matched = _match_prefix(list(nodes), children[start:], target, {})
            if matched is not None:
                bindings, used = matched
                last = children[start + used - 1] if used else children[start]
                if nodes[-1].ellipsis:  # a trailing `...` reaches the end of the block
                    last = children[-1]
                found.append(Match(target.starts[children[start]], target.ends[last], bindings))
    return found


def _match(pattern: PNode, node: int, target: Target, bindings: Bindings) -> Bindings | None:
    if pattern.metavariable:
        return _bind(pattern.metavariable, node, target, bindings)
    if target.name(node) != pattern.kind:
        return None
    if pattern.any_string:
        return bindings
    if pattern.leaf:
        return bindings if target.text(node).decode("utf-8", "replace") == pattern.text else None
    if not any(c.ellipsis for c in pattern.children) and target.anon(node) != pattern.anon:
        return None
    return _match_list(pattern.children, target.named_children(node), target, bindings)


def _bind(name: str, node: int, target: Target, bindings: Bindings) -> Bindings | None:
    span = (target.starts[node], target.ends[node])
    bound = bindings.get(name)
    if bound is None:
        return {**bindings, name: span}
    same = target.source[bound[0]:bound[1]] == target.source[span[0]:span[1]]
    return bindings if same else None


def _match_list(patterns: tuple[PNode, ...] | list[PNode], nodes: list[int], target: Target,
                bindings: Bindings) -> Bindings | None:
    """Children against children, all of them; an ellipsis takes any run (none included)."""
    found = _align(list(patterns), nodes, target, bindings, whole=True)
    return None if found is None else found[0]


def _match_prefix(patterns: list[PNode], nodes: list[int], target: Target,
                  bindings: Bindings) -> tuple[Bindings, int] | None:
    """A run of statements that may end before the nodes do; also how many nodes it used."""
    return _align(patterns, nodes, target, bindings, whole=False)


def _align(patterns: list[PNode], nodes: list[int], target: Target, bindings: Bindings,
           whole: bool) -> tuple[Bindings, int] | None:
    """Match ``patterns`` against the start of ``nodes`` (all of them when ``whole``);
    the bindings and the number of nodes used, or None."""
    if not patterns:
        return None if whole and nodes else (bindings, 0)
    head, rest = patterns[0], patterns[1:]
    if head.ellipsis:
        if not rest:
            return bindings, len(nodes) if whole else 0
        for skip in range(len(nodes) + 1):
            found = _align(rest, nodes[skip:], target, bindings, whole)
            if found is not None:
                return found[0], found[1] + skip
        return None
    if not nodes:
        return None
    matched = _match(head, nodes[0], target, bindings)
    if matched is None:
        return None
    found = _align(rest, nodes[1:], target, matched, whole)
    return None if found is None else (found[0], found[1] + 1)
