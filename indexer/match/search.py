"""Every match of one compiled pattern in one file.

Candidates come from the grammar kinds that can make the pattern's root (C-speed scans of
the kind array): an expression pattern is tried at each node of those kinds, a statement
pattern at each statement of its kind, a sequence of statements at each position of each
statement list. Only candidates are converted to the normalized tree, and only as deep as
the pattern looks.
"""

from __future__ import annotations

import bisect
import os
import time
from itertools import compress, repeat
from typing import Any, NamedTuple

from indexer.match.facts import Facts
from indexer.match.formula import Spans
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
NOT_FOUND = -1
COMPARISONS = frozenset({"==", "!=", "===", "!==", "<", "<=", ">", ">="})  # spelled as is
NO_END = 1 << 62  # sorts after every real offset
MAX_MATCHES_PER_NODE = 64  # ways one node can match one pattern (bounds a combinatorial blowup)


class MatchTimeout(Exception):
    """Matching one rule on one file ran past its deadline (``Target.deadline``)."""


class MatchMemoryLimit(Exception):
    """Matching one rule on one file took the process past ``Target.memory_limit`` bytes."""

    def __init__(self, used: int) -> None:
        super().__init__(used)
        self.used = used  # bytes resident when it was noticed


MEMORY_CHECK_SECONDS = 0.01  # how often the resident size is read while a rule searches
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident set size (0 where /proc does not tell it)."""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
    except OSError:
        return 0
    try:
        return int(os.read(fd, 128).split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0
    finally:
        os.close(fd)


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
        self.deadline = 0.0  # time.monotonic() past which a search stops (0: none)
        self.memory_limit = 0  # resident bytes past which a search stops (0: none)
        self._memory_due = 0.0  # when the resident size is read next

    def check_deadline(self) -> None:
        """Raise MatchTimeout past the deadline, MatchMemoryLimit past the memory limit
        (read every MEMORY_CHECK_SECONDS at most: a read costs a system call)."""
        if not (self.deadline or self.memory_limit):
            return
        now = time.monotonic()
        if self.deadline and now > self.deadline:
            raise MatchTimeout
        if self.memory_limit and now >= self._memory_due:
            self._memory_due = now + MEMORY_CHECK_SECONDS
            used = resident_bytes()
            if used > self.memory_limit:
                raise MatchMemoryLimit(used)

    def position(self, offset: int) -> tuple[int, int, int]:
        return self.tree.position(offset)

    def needles(self, pattern: Pattern) -> tuple[bytes, ...]:
        """Words a node must hold in its own text to match ``pattern``: the pattern's names
        (Pattern.tokens), less those this file may spell otherwise (an import alias or a
        wildcard import can stand for them); none under symbolic propagation, which can
        match a name through what it was assigned anywhere. A comparison's operator is one
        too (the node compared is spelled with it)."""
        if self.matcher.options.get("symbolic_propagation"):
            return ()
        root = pattern.node
        operator = [root.value.encode()] if root.kind == "BinOp" and root.value in \
            COMPARISONS else []
        if not pattern.tokens:
            return tuple(operator)
        aliasable = self.facts.aliasable_words()
        words = sorted((w.encode() for w in pattern.tokens if w not in aliasable),
                       key=len, reverse=True)
        return tuple(words + operator)

    def containing(self, nodes: list[int], needles: tuple[bytes, ...]) -> list[int]:
        """The nodes whose text holds every needle (the loop runs in C: map and compress)."""
        tree = self.tree
        source, starts, ends = tree.source, tree.starts.__getitem__, tree.ends.__getitem__
        for needle in needles:
            if not nodes:
                break
            hits = map(source.find, repeat(needle), map(starts, nodes), map(ends, nodes))
            nodes = list(compress(nodes, map(NOT_FOUND.__ne__, hits)))
        return nodes

    def overlapping(self, nodes: list[int], spans: Spans) -> list[int]:
        """The nodes whose range meets one of the spans."""
        starts, ends = self.tree.starts, self.tree.ends
        firsts = [s for s, _ in spans]
        out = []
        for i in nodes:
            at = bisect.bisect_right(firsts, ends[i]) - 1  # the last span starting by i's end
            if at >= 0 and spans[at][1] >= starts[i]:
                out.append(i)
        return out

    def of_kinds(self, kinds: frozenset[str], within: Spans | None = None) -> list[int]:
        """The nodes of those kinds (that start in the spans, when given), in preorder."""
        tree = self.tree
        if within is not None and tree.ordered():
            spanned: list[int] = []
            for first, last in within:
                spanned += tree.of_kinds(kinds, *tree.numbered_between(first, last))
            return spanned
        found = self._candidates.get(kinds)
        if found is None:
            found = self._candidates[kinds] = tree.of_kinds(kinds)
        if within is not None:
            starts = tree.starts
            found = [i for i in found if _starts_in(starts[i], within)]
        return found


def find(pattern: Pattern, target: Target, inside: bool = False,
         env: Env | None = None, within: Spans | None = None) -> list[Match]:
    """Every match of ``pattern`` in ``target``, in source order, each range once per set of
    bindings; ``env`` holds bindings a match must agree with (a metavariable-pattern's);
    ``within`` (sorted disjoint spans), when given, limits the search to matches that start
    in them (others may still be found)."""
    start = env or {}
    target.matcher.set_roots(pattern.node)
    if pattern.shape == "stmts":
        found = _find_sequences(pattern, target, inside, start, within)
    else:
        found = _find_nodes(pattern, target, start, within)
    unique: dict[tuple[int, int, str], Match] = {}
    for match in found:
        unique.setdefault((match.start, match.end, _env_key(match.env)), match)
    return sorted(unique.values(), key=lambda m: (m.start, m.end))


def _find_nodes(pattern: Pattern, target: Target, start: Env,
                within: Spans | None) -> list[Match]:
    root = pattern.node
    converter, matcher = target.converter, target.matcher
    found = []
    candidates = target.of_kinds(_candidate_kinds(root, target), within)
    needles = target.needles(pattern)
    if needles:  # words the node's own text must hold (C-speed scans)
        absorbing = converter.ABSORBING
        if absorbing:  # nodes that take in their siblings are not filtered by their text
            kept = [i for i in candidates if target.tree.kind(i) in absorbing]
            candidates = sorted(kept + target.containing(
                [i for i in candidates if target.tree.kind(i) not in absorbing], needles))
        else:
            candidates = target.containing(candidates, needles)
    for index in candidates:
        target.check_deadline()
        for node in converter.nodes((index,)):  # one node, or a splice of several
            if pattern.shape == "expr" and node.kind == "ExprStmt" and node.kids[0] is not None:
                node = node.kids[0]  # a statement that is one expression (Go's x := 1)
            if pattern.shape == "expr" and node.kind in STATEMENTS and root.kind in (
                    "Metavar", "TypedMetavar"):
                continue  # $X is an expression, not a declaration
            count = 0
            for env in matcher.m(root, node, start):
                if count == 0 and not _placed(pattern, target, index):
                    break
                found.append(Match(node.start, node.end, env))
                count += 1
                if count >= MAX_MATCHES_PER_NODE:
                    break
    return found


def _placed(pattern: Pattern, target: Target, index: int) -> bool:
    """Whether a grammar node that matched stands where the pattern can match (asked only
    of matches: finding a node's parent costs more than trying most patterns): not a
    definition's name for an expression pattern, not a written type unless the pattern is
    a name, not a decorated definition's inner one, not in a decorator under the rule
    option ``attr_expr: false``."""
    converter = target.converter
    if converter.shadowed(index):
        return False
    if not target.matcher.options.get("attr_expr", True) and converter.in_attribute(index):
        return False
    if pattern.shape != "expr":
        return True
    if not converter.in_expression(index):
        return False
    if pattern.node.kind in ("Name", "Attr"):
        return True
    return target.tree.kind(index) not in converter.TYPE_KINDS


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
    if kind in LITERALS or kind == "Attr":
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


def _find_sequences(pattern: Pattern, target: Target, inside: bool, start: Env,
                    within: Spans | None) -> list[Match]:
    converter, matcher = target.converter, target.matcher
    wanted = pattern.node.kids[0]
    kinds = converter.candidates("Block") | converter.candidates("Module")
    blocks = target.of_kinds(frozenset(kinds))
    if within is not None:  # the blocks that overlap a span
        blocks = target.overlapping(blocks, within)
    found = []
    for index in blocks:
        target.check_deadline()
        node = converter.node(index)
        if node is None or node.kind not in ("Block", "Module"):
            continue
        statements = node.kids[0]
        at_each = matcher.stmts_at_each_position(wanted, statements, start,
                                                 MAX_MATCHES_PER_NODE)
        for position in range(len(statements)):
            if position % 64 == 63:
                target.check_deadline()
            rest = statements[position:]
            if within is not None and not _starts_in(rest[0].start, within):
                continue
            if at_each is not None:
                found += [Match(rest[0].start, last.end if last is not None else rest[0].end,
                                env) for env, last in at_each[position]]
                continue
            count = 0
            for env, last in matcher.stmts(wanted, rest, start, less_ok=True, inside=inside):
                end = last.end if last is not None else rest[0].end
                found.append(Match(rest[0].start, end, env))
                count += 1
                if count >= MAX_MATCHES_PER_NODE:
                    break
    return found


def _starts_in(offset: int, spans: Spans) -> bool:
    at = bisect.bisect_right(spans, (offset, NO_END)) - 1
    return at >= 0 and spans[at][0] <= offset <= spans[at][1]


def _env_key(env: Env) -> str:
    parts = []
    for name in sorted(env):
        value = env[name]
        if isinstance(value, tuple):
            parts.append(f"{name}={[(v.start, v.end) for v in value]}")
        else:
            parts.append(f"{name}={value.start},{value.end},{value.kind}")
    return ";".join(parts)
