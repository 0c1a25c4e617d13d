"""A stored (or freshly parsed) tree-sitter tree as flat preorder arrays plus its source.

Every lookup reads the arrays: a node's children are found by jumping from one child to the
next over the subtree ends, which are computed once per tree (in C when the native module is
there); nothing here recurses, so a 100k-deep file is as fine as a flat one.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from indexer import native
from indexer.codec import FlatAst

NEWLINE = re.compile(b"\n")


class Tree:
    """A decoded tree: ``kind(i)``, ``children(i)``, ``child(i, field)``, ``text(i)``."""

    def __init__(self, flat: FlatAst, source: bytes) -> None:
        self.language = flat.language
        self.source = source
        self.kinds = flat.kinds
        self.starts = flat.starts
        self.ends = flat.ends
        self.fields = flat.fields
        self.depths = flat.depths
        self.after = flat.after if flat.after is not None else subtree_ends(flat.depths)
        self._parents: list[int] | None = None
        self.kind_names = {k: name for k, (name, _named) in flat.types.items()}
        self.named_kinds = {k for k, (_name, named) in flat.types.items() if named}
        self.field_ids = {name: f for f, name in flat.field_names.items()}
        self.field_names = flat.field_names
        self._children: dict[int, list[int]] = {}
        self._line_starts: list[int] | None = None
        self._ordered: bool | None = None

    def __len__(self) -> int:
        return len(self.kinds)

    def kind(self, node: int) -> str:
        return self.kind_names[self.kinds[node]]

    def is_named(self, node: int) -> bool:
        return self.kinds[node] in self.named_kinds

    def children(self, node: int) -> list[int]:
        """Every child, named or not, in order."""
        found = self._children.get(node)
        if found is None:
            found, after, end = [], self.after, self.after[node]
            child = node + 1
            while child < end:
                found.append(child)
                child = after[child]
            self._children[node] = found
        return found

    def named_children(self, node: int) -> list[int]:
        named = self.named_kinds
        kinds = self.kinds
        return [c for c in self.children(node) if kinds[c] in named]

    def child(self, node: int, field: str) -> int | None:
        """The first child under ``field``, or None."""
        wanted = self.field_ids.get(field)
        if wanted is None:
            return None
        fields = self.fields
        for child in self.children(node):
            if fields[child] == wanted:
                return child
        return None

    def children_in(self, node: int, field: str) -> list[int]:
        wanted = self.field_ids.get(field)
        fields = self.fields
        return [c for c in self.children(node) if fields[c] == wanted] if wanted else []

    def field_of(self, node: int) -> str:
        """The field under which ``node`` hangs from its parent ("" for none)."""
        field = self.fields[node]
        return self.field_names.get(field, "") if field else ""

    def parent(self, node: int) -> int:
        """The parent's index (-1 for the root), from a table built on first use."""
        if self._parents is None:
            self._parents = parents_of(self.depths)
        return self._parents[node]

    def raw(self, node: int) -> bytes:
        return self.source[self.starts[node]:self.ends[node]]

    def text(self, node: int) -> str:
        return self.source[self.starts[node]:self.ends[node]].decode("utf-8", "replace")

    def ordered(self) -> bool:
        """Whether starts never decrease in preorder (true of any sane parse; a search
        bisects candidates by start only when it holds)."""
        if self._ordered is None:
            starts = list(self.starts)
            self._ordered = starts == sorted(starts)
        return self._ordered

    def of_kinds(self, names: set[str] | frozenset[str], low: int = 0,
                 high: int | None = None) -> list[int]:
        """Every named node whose kind is in ``names``, in preorder (C-speed scans of the
        kind array), of those numbered ``low`` to ``high`` (excluded) when given (a keyword
        token spelled like a kind, as ``yield`` in Python, is no candidate)."""
        named = self.named_kinds
        ids = [k for k, name in self.kind_names.items() if name in names and k in named]
        if not ids:
            return []
        kinds, found = self.kinds, []
        stop = len(kinds) if high is None else high
        for kind_id in ids:
            index = low - 1
            try:
                while True:
                    index = kinds.index(kind_id, index + 1, stop)
                    found.append(index)
            except ValueError:
                pass
        found.sort()
        return found

    def numbered_between(self, first: int, last: int) -> tuple[int, int]:
        """The preorder numbers (low, high excluded) of the nodes that start at offsets
        ``first`` to ``last``; only meaningful when ``ordered()``."""
        return (bisect.bisect_left(self.starts, first), bisect.bisect_right(self.starts, last))

    def position(self, offset: int) -> tuple[int, int, int]:
        """(line, column, offset), 1-based line and column, from a table built once."""
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in NEWLINE.finditer(self.source)]
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1, offset


def subtree_ends(depths: list[int]) -> list[int]:
    """For each node of a preorder walk, the index just past its subtree."""
    module: Any = native.module()
    if module is not None and hasattr(module, "subtree_ends"):
        result: list[int] = module.subtree_ends(depths)
        return result
    return subtree_ends_python(depths)


def parents_of(depths: list[int]) -> list[int]:
    """For each node of a preorder walk, its parent's index (-1 for the root)."""
    module: Any = native.module()
    if module is not None and hasattr(module, "parents"):
        result: list[int] = module.parents(depths)
        return result
    return parents_python(depths)


def parents_python(depths: list[int]) -> list[int]:
    """``parents_of`` without the native module."""
    parents = [-1] * len(depths)
    stack: list[int] = []
    for index, depth in enumerate(depths):
        del stack[depth:]
        if stack:
            parents[index] = stack[-1]
        stack.append(index)
    return parents


def subtree_ends_python(depths: list[int]) -> list[int]:
    """``subtree_ends`` without the native module: one pass with a stack of open nodes."""
    count = len(depths)
    ends = [count] * count
    stack: list[int] = []
    pop, push = stack.pop, stack.append
    for index, depth in enumerate(depths):
        while len(stack) > depth:
            ends[pop()] = index
        push(index)
    return ends
