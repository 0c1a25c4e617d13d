"""Definition patterns of a grammar's ``queries/tags.scm``, compiled for the native walker.

Running the tags query costs a second full walk of every tree (~35% of the parse time on
Python files, whatever the patterns). Most definition patterns have a simple shape, a node
type with typed children under fields, say ``(function_definition name: (identifier) @name)
@definition.function``; the native walker matches those on the nodes it visits anyway.
``compile_definitions`` turns a tags query into such patterns, or returns None when any
definition pattern uses something it does not model (quantifiers other than a leading
``(comment)* @doc``, anchors inside a node, negated fields, predicates on anything but
``@name``): that language keeps the tree-sitter query, so symbols never depend on the path.

A compiled pattern is ``(root, kind, checks)``: ``root`` is a node spec ``(type, capture,
field, children)`` (``type`` a symbol id, ANY or ANY_NAMED; ``capture`` NAME, DEFINITION or
0; ``field`` the field id the parent requires, or 0), ``kind`` the text after
``@definition.``, ``checks`` the ``#eq?``-style predicates on the name text. Alternations are
expanded into one pattern per choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import product
from typing import Any, NamedTuple

ANY, ANY_NAMED = -1, -2  # `_` and `(_)`
NAME, DEFINITION = 1, 2
MAX_EXPANSIONS = 64  # alternation choices per pattern, beyond which the query is kept


class Unsupported(Exception):
    """A pattern the native matcher does not model."""


class Compiled(NamedTuple):
    specs: tuple[Any, ...]  # root node specs, for indexer._native.compile_tags
    kinds: tuple[str, ...]  # per pattern: the definition kind
    checks: tuple[tuple[Callable[[str], bool], ...], ...]  # per pattern: predicates on @name


# --- reading query syntax -------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s+ | ;[^\n]* (?P<skip>)
  | (?P<punct>[()\[\]])
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<capture>@[\w.\-]+)
  | (?P<field>[\w\-]+):
  | (?P<negated>![\w\-]+)
  | (?P<predicate>\#[\w\-]+[?!])
  | (?P<quant>[*+?])
  | (?P<anchor>\.)
  | (?P<word>[\w\-]+)
""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None:
            raise Unsupported(f"cannot read the query at {text[at:at + 20]!r}")
        at = found.end()
        kind = found.lastgroup
        if kind and kind != "skip":
            out.append((kind, found.group(kind)))
    return out


class _Item(NamedTuple):
    form: str  # "node", "alt", "group", "predicate", "anchor"
    value: Any  # node: (type, named, children); alt/group: items; predicate: (name, args)
    quantifier: str | None
    captures: tuple[str, ...]


class _Reader:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise Unsupported("the query ends early")
        self.at += 1
        return token

    def items_until(self, closing: str) -> list[tuple[str | None, _Item]]:
        """(field, item) pairs up to the closing bracket, which is consumed."""
        out: list[tuple[str | None, _Item]] = []
        while self.peek() != ("punct", closing):
            field = None
            if self.peek() and self.peek()[0] == "field":  # type: ignore[index]
                field = self.take()[1]
            out.append((field, self.item()))
        self.take()
        return out

    def item(self) -> _Item:
        kind, value = self.take()
        if kind == "anchor":
            return _Item("anchor", None, None, ())
        if kind == "negated":
            raise Unsupported("negated field")
        if kind == "string":
            core: tuple[str, Any] = ("node", (_unquote(value), False, []))
        elif kind == "word":
            core = ("node", (None if value == "_" else value, False, []))
        elif (kind, value) == ("punct", "["):
            core = ("alt", [item for _, item in self.items_until("]")])
        elif (kind, value) == ("punct", "("):
            core = self.parenthesised()
        else:
            raise Unsupported(f"unexpected {value!r}")
        quantifier = self.take()[1] if self.peek() and self.peek()[0] == "quant" else None  # type: ignore[index]
        captures = []
        while self.peek() and self.peek()[0] == "capture":  # type: ignore[index]
            captures.append(self.take()[1][1:])
        return _Item(core[0], core[1], quantifier, tuple(captures))

    def parenthesised(self) -> tuple[str, Any]:
        head = self.peek()
        if head is None:
            raise Unsupported("the query ends early")
        if head[0] == "predicate":
            self.take()
            args = []
            while self.peek() != ("punct", ")"):
                kind, value = self.take()
                args.append(value if kind != "string" else ("string", _unquote(value)))
            self.take()
            return "predicate", (head[1], args)
        if head[0] == "word":
            self.take()
            children = self.items_until(")")
            return "node", (None if head[1] == "_" else head[1], True, children)
        return "group", [item for _, item in self.items_until(")")]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                  text[1:-1])


def _top_level(text: str) -> Iterator[_Item]:
    reader = _Reader(text)
    while reader.peek() is not None:
        yield reader.item()


# --- from query items to node specs ---------------------------------------------------------

def compile_definitions(language: Any, query_text: str) -> Compiled | None:
    """The definition patterns of a tags query as native specs, or None if any is beyond
    the native matcher (the caller then runs the query)."""
    specs: list[Any] = []
    kinds: list[str] = []
    checks: list[tuple[Callable[[str], bool], ...]] = []
    try:
        for item in _top_level(query_text):
            if not any(c.startswith("definition.") for c in _all_captures(item)):
                continue  # references and the rest: not stored
            core, predicates = _strip_group(item)
            tests = tuple(_check(p) for p in predicates)
            for spec, kind in _expand(language, core, None):
                specs.append(spec)
                kinds.append(kind)
                checks.append(tests)
                if len(specs) > MAX_EXPANSIONS * 16:
                    raise Unsupported("too many patterns")
    except Unsupported:
        return None
    return Compiled(tuple(specs), tuple(kinds), tuple(checks))


def _all_captures(item: _Item) -> Iterator[str]:
    yield from item.captures
    if item.form == "node":
        for _, child in item.value[2]:
            yield from _all_captures(child)
    elif item.form in ("alt", "group"):
        for child in item.value:
            yield from _all_captures(child)


def _strip_group(item: _Item) -> tuple[_Item, list[tuple[str, list[Any]]]]:
    """The one node pattern of a top-level group, without the leading optional doc comments
    and their directives (they only shape the ``@doc`` capture, which is not stored)."""
    if item.form != "group":
        return item, []
    core: list[_Item] = []
    predicates: list[tuple[str, list[Any]]] = []
    for member in item.value:
        if member.form == "anchor":
            continue
        if member.form == "predicate":
            name, args = member.value
            if name.endswith("!"):
                continue  # directives (#strip!, #select-adjacent!...) do not filter matches
            predicates.append((name, args))
        elif member.quantifier in ("*", "?") and not any(
                c == "name" or c.startswith("definition.") for c in _all_captures(member)):
            continue  # optional context such as (comment)* @doc
        else:
            core.append(member)
    if len(core) != 1 or core[0].quantifier is not None:
        raise Unsupported("a group of several patterns")
    return core[0], predicates


def _check(predicate: tuple[str, list[Any]]) -> Callable[[str], bool]:
    name, args = predicate
    if len(args) != 2 or args[0] != "@name" or not isinstance(args[1], tuple):
        raise Unsupported(f"predicate {name} on something else than @name and a string")
    value = args[1][1]
    if name == "#eq?":
        return lambda text: text == value
    if name == "#not-eq?":
        return lambda text: text != value
    if name in ("#match?", "#not-match?"):
        pattern = re.compile(value)
        wanted = name == "#match?"
        return lambda text: (pattern.search(text) is not None) == wanted
    raise Unsupported(f"predicate {name}")


def _expand(language: Any, item: _Item, field: str | None) -> Iterator[tuple[Any, str]]:
    """Every alternation-free spec of ``item``, with the definition kind it captures ("" if
    none inside it)."""
    if item.quantifier is not None:
        raise Unsupported("a quantifier")
    if item.form == "alt":
        for member in item.value:
            merged = member._replace(captures=member.captures + item.captures)
            yield from _expand(language, merged, field)
        return
    if item.form == "group" and len(item.value) == 1:  # `([...])`: just its one member
        member = item.value[0]
        yield from _expand(language, member._replace(captures=member.captures + item.captures),
                           field)
        return
    if item.form != "node":
        raise Unsupported(f"a {item.form} inside a pattern")
    node_type, named, children = item.value
    capture, kind = 0, ""
    for name in item.captures:
        if name == "name" and capture == 0:
            capture = NAME
        elif name.startswith("definition.") and capture == 0:
            capture, kind = DEFINITION, name[len("definition."):]
        else:
            raise Unsupported(f"capture @{name}")
    type_id = _type_id(language, node_type, named)
    field_id = _field_id(language, field)
    choices = [list(_expand(language, child, child_field)) for child_field, child in children]
    for count, combination in enumerate(product(*choices)):
        if count >= MAX_EXPANSIONS:
            raise Unsupported("too many alternatives")
        kinds = [k for _, k in combination if k] + ([kind] if kind else [])
        if len(kinds) > 1:
            raise Unsupported("several definition captures")
        yield ((type_id, capture, field_id, tuple(spec for spec, _ in combination)),
               kinds[0] if kinds else "")


def _type_id(language: Any, node_type: str | None, named: bool) -> int:
    if node_type is None:
        return ANY_NAMED if named else ANY
    found = language.id_for_node_kind(node_type, named)
    if not found:
        raise Unsupported(f"unknown node type {node_type}")
    return int(found)


def _field_id(language: Any, field: str | None) -> int:
    if field is None:
        return 0
    found = language.field_id_for_name(field)
    if not found:
        raise Unsupported(f"unknown field {field}")
    return int(found)
