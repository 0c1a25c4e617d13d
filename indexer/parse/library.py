"""Parsing as a library: one file's bytes to (blob, tokens, symbols), and a tree to the flat
preorder arrays the index stores. The worker processes (worker.py), the in-process index, the
matcher's pattern compiler and buffer scans all parse through here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from indexer import codec, languages, native
from indexer.model import ParseResult, ParseTask
from indexer.parse import tags as tags_plan
from indexer.settings import BINARY_SNIFF_BYTES, DEFAULT_MAX_FILE_SIZE
from indexer.tokens import extract_tokens

NO_TIMEOUT = 1e9  # seconds: the native parse always takes a deadline


def native_walker() -> tuple[Any, str]:
    """(the indexer._native module or None, why). It parses with its own copy of tree-sitter's
    core, so it runs only beside the py-tree-sitter release whose core it carries: then both
    paths make the same trees."""
    if os.environ.get(native.NATIVE_ENV) == "0":
        return None, f"off ({native.NATIVE_ENV}=0)"
    _native = native.module()
    if _native is None:
        return None, f"off ({native.unavailable()})"
    if getattr(_native, "API_VERSION", 1) != native.API_VERSION:
        return None, "off (built from an older indexer/_native.c: `make native` rebuilds it)"
    installed = languages.installed_version("tree_sitter")
    if _native.TREE_SITTER_VERSION != installed:
        return None, (f"off (it carries the core of tree-sitter {_native.TREE_SITTER_VERSION}, "
                      f"{installed} is installed)")
    return _native, f"on (tree-sitter {installed})"


class ParseTimeout(Exception):
    """tree-sitter stopped a parse at its deadline."""


class Parsers:
    """Per-process cache of a tree-sitter Parser, tags Query and native parser per language."""

    def __init__(self) -> None:
        self._parsers: dict[str, Any] = {}
        self._tags: dict[str, Any] = {}
        self._plans: dict[str, NativeTags | None] = {}
        self._native_languages: dict[str, NativeLanguage | None] = {}
        self.native = native_walker()[0]

    def parser(self, language: str) -> Any:
        """Just the parser (no tags query), for parsing rule patterns."""
        if language not in self._parsers:
            import tree_sitter

            try:
                made = tree_sitter.Parser(languages.load_grammar(language).language)
            except ValueError as exc:  # an ABI version this runtime does not take
                raise languages.GrammarUnavailable(f"{language}: {exc}") from exc
            self._parsers[language] = made
        return self._parsers[language]

    def tags(self, language: str) -> Any:
        """A QueryCursor over the tags query's definition patterns, or None without one
        (compiling one costs tens of ms: only languages the native matcher cannot take)."""
        if language not in self._tags:
            self._tags[language] = _compile_tags(languages.load_grammar(language))
        return self._tags[language]

    def parse(self, language: str, source: bytes, timeout: float | None) -> Any:
        """A tree_sitter.Tree of ``source`` (the Python path); raises ParseTimeout when the
        timeout cancels it, GrammarUnavailable when the grammar cannot be used."""
        return _parse(self.parser(language), source, timeout)

    def parse_native(self, language: str, source: bytes, timeout: float | None) -> Any:
        """indexer._native.parse's packed tree of ``source``, or None where this language
        takes the Python path; raises ParseTimeout and GrammarUnavailable as ``parse``."""
        setup = self.native_language(language)
        if setup is None:
            return None
        packed = self.native.parse(setup.parser, source,
                                   NO_TIMEOUT if timeout is None else timeout,
                                   setup.plan.capsule if setup.plan else None, setup.query)
        if packed is None:
            raise ParseTimeout
        return packed

    def native_language(self, language: str) -> NativeLanguage | None:
        """The native parser and definition matcher of ``language``; None without the native
        module, or where a tags query has text predicates only py-tree-sitter evaluates."""
        if self.native is None:
            return None
        if language not in self._native_languages:
            grammar = languages.load_grammar(language)
            try:
                parser = self.native.new_parser(grammar.capsule)
            except ValueError as exc:  # an ABI version this runtime does not take
                raise languages.GrammarUnavailable(f"{language}: {exc}") from exc
            plan = self.plan(language)
            query, kinds = None, {}
            try:
                if plan is None and grammar.tags_query and self.tags(language) is not None:
                    query, names = self.native.compile_query(grammar.capsule,
                                                             grammar.tags_query.encode())
                    kinds = {i: n[11:] for i, n in enumerate(names) if n.startswith("definition.")}
            except NotImplementedError:  # text predicates: the Python path runs the query
                self._native_languages[language] = None
                return None
            self._native_languages[language] = NativeLanguage(parser, plan, query, kinds)
        return self._native_languages[language]

    def plan(self, language: str) -> NativeTags | None:
        """The language's definition patterns for the native walker, if it models them all."""
        if language not in self._plans:
            grammar = languages.load_grammar(language)
            compiled = (tags_plan.compile_definitions(grammar.language, grammar.tags_query)
                        if self.native is not None and grammar.tags_query else None)
            try:
                self._plans[language] = None if compiled is None else NativeTags(
                    self.native.compile_tags(compiled.specs), compiled)
            except (ValueError, TypeError):  # beyond the C matcher: the query does it
                self._plans[language] = None
        return self._plans[language]


class NativeTags(NamedTuple):
    capsule: Any  # indexer._native.compile_tags(compiled.specs)
    compiled: tags_plan.Compiled


class NativeLanguage(NamedTuple):
    parser: Any  # indexer._native.new_parser(grammar.capsule)
    plan: NativeTags | None  # the definition patterns, matched during the walk
    query: Any  # else the tags query in the native core (compile_query), or None
    kinds: dict[int, str]  # the query's definition capture ids -> kinds


def _compile_tags(grammar: languages.Grammar) -> Any:
    if not grammar.tags_query:
        return None
    import tree_sitter

    try:
        query = tree_sitter.Query(grammar.language, grammar.tags_query)
    except (tree_sitter.QueryError, ValueError):  # a tags.scm the grammar cannot compile
        return None
    text = grammar.tags_query.encode()
    for index in range(query.pattern_count):  # references are not stored: skip matching them
        pattern = text[query.start_byte_for_pattern(index):query.end_byte_for_pattern(index)]
        if b"@definition." not in pattern:
            query.disable_pattern(index)
    return tree_sitter.QueryCursor(query)


def read_source(abspath: str, max_size: int) -> tuple[bytes | None, ParseResult]:
    """Read a file; on a reason not to parse it, the result carries that status."""
    result = ParseResult(task_id=0)
    try:
        with open(abspath, "rb") as handle:
            source = handle.read(max_size + 1)
    except FileNotFoundError:
        result.status, result.error = "vanished", "file vanished before it could be read"
        return None, result
    except OSError as exc:
        result.status, result.error = "failed", f"cannot read: {exc.strerror or exc}"
        return None, result
    result.size = len(source)
    result.sha256 = hashlib.sha256(source).hexdigest()
    if len(source) > max_size:
        result.status, result.error = "too_large", f"larger than {max_size} bytes"
        return None, result
    if b"\0" in source[:BINARY_SNIFF_BYTES]:
        result.status, result.error = "binary", "NUL byte in the first 8 KiB"
        return None, result
    return source, result


def parse_file(task: ParseTask, parsers: Parsers, max_size: int = DEFAULT_MAX_FILE_SIZE,
               timeout: float | None = None) -> ParseResult:
    """Read, hash and parse one file (or the bytes the task carries). Never raises for a bad
    file: the result says why."""
    if task.source is not None and len(task.source) <= max_size:
        source: bytes | None = task.source
        result = ParseResult(task_id=0, sha256=task.sha256, size=len(task.source))
    else:
        source, result = read_source(task.abspath, max_size)
    result.task_id = task.task_id
    if source is None:
        return result
    try:
        grammar = languages.load_grammar(task.language)
        packed = parsers.parse_native(task.language, source, timeout)
        tree = parsers.parse(task.language, source, timeout) if packed is None else None
    except languages.GrammarUnavailable as exc:
        result.status, result.error = "failed", str(exc)
        return result
    except ParseTimeout:  # tree-sitter cancelled the parse at the deadline
        result.status, result.error = "failed", f"parse timed out after {timeout:g} s"
        return result
    result.parser_version = grammar.version
    if packed is not None:
        _from_native(result, grammar, parsers.native_language(task.language), packed, source)
    else:
        _from_tree(result, grammar, parsers.tags(task.language), tree)
    result.tokens = extract_tokens(source)
    return result


def _from_native(result: ParseResult, grammar: languages.Grammar, setup: Any, packed: Any,
                 source: bytes) -> None:
    """Blob, node count, symbols and syntax error from indexer._native.parse."""
    arrays, result.node_count, present, fields, found, error = packed
    result.blob = codec.encode_packed(grammar.name, grammar.version,
                                      kind_names(grammar.language, present),
                                      field_names(grammar.language, fields), arrays)
    if setup.plan is not None:
        result.symbols = native_definitions(setup.plan.compiled, found, source)
    else:
        result.symbols = query_definitions(setup.kinds, found, source)
    if error is not None:
        result.status, result.error = "syntax_error", error


def _from_tree(result: ParseResult, grammar: languages.Grammar, tags: Any, tree: Any) -> None:
    """The same from a py-tree-sitter tree (the Python path)."""
    root = tree.root_node
    walked = flatten(tree, grammar.language)
    result.blob = codec.encode(grammar.name, grammar.version, walked)
    result.node_count = len(walked.kinds)
    result.symbols = definitions(tags, root) if tags is not None else []
    if root.has_error:
        result.status, result.error = "syntax_error", _first_error(root)


def _parse(parser: Any, source: bytes, timeout: float | None) -> Any:
    """The Python path: py-tree-sitter stops a parse only through a read callback's
    progress callback."""
    if timeout is None:
        return parser.parse(source)
    deadline = time.monotonic() + timeout
    view = memoryview(source)  # hand tree-sitter the rest of the file, without copies
    try:
        tree = parser.parse(lambda offset, _point: view[offset:],
                            progress_callback=lambda *_: time.monotonic() > deadline)
    except ValueError:
        parser.reset()  # a halted parse would otherwise resume on the next file
        raise ParseTimeout from None
    # A tree read through a callback has no source: text predicates in the tags query would
    # call back into Python for every check (measured 1.9x slower). Re-parsing from bytes with
    # the old tree and no edits reuses every subtree (~6% of a parse) and keeps the source.
    return parser.parse(source, old_tree=tree)


def flatten(tree: Any, language: Any) -> codec.Walked:
    """Preorder arrays of every node, with a TreeCursor (the fastest walk py-tree-sitter has)."""
    kinds: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    depths: list[int] = []
    fields: list[int] = []
    add_kind, add_start, add_field = kinds.append, starts.append, fields.append
    add_end, add_depth = ends.append, depths.append
    cursor = tree.walk()
    first_child, next_sibling, parent = (cursor.goto_first_child, cursor.goto_next_sibling,
                                         cursor.goto_parent)
    step = 0  # depth change from the previous node: +1 into a child, 0 sibling, -k back up
    while True:
        node = cursor.node
        add_kind(node.kind_id)
        add_start(node.start_byte)
        add_end(node.end_byte)
        add_depth(step)
        add_field(cursor.field_id or 0)
        if first_child():
            step = 1
            continue
        step = 0
        while not next_sibling():
            if not parent():
                return codec.Walked(kind_names(language, sorted(set(kinds))),
                                    field_names(language, set(fields)), kinds, starts, ends,
                                    depths, fields)
            step -= 1


def field_names(language: Any, fields: Iterable[int]) -> dict[int, str]:
    """The blob's field table: the name of each field id that occurs."""
    return {f: language.field_name_for_id(f) or "" for f in sorted(fields) if f}


def kind_names(language: Any, kinds: Iterable[int]) -> dict[int, tuple[str, bool]]:
    """The blob's type table: (name, named) of each kind id that occurs."""
    table = _kind_table(language)
    return {k: table[k] for k in kinds}


@functools.lru_cache(maxsize=64)
def _kind_table(language: Any) -> _KindTable:
    return _KindTable(language)


class _KindTable(dict[int, tuple[str, bool]]):
    """(name, named) by kind id, looked up in the grammar once per id (ERROR is 65535)."""

    def __init__(self, language: Any) -> None:
        super().__init__()
        self.language = language

    def __missing__(self, kind: int) -> tuple[str, bool]:
        entry = (self.language.node_kind_for_id(kind) or "",
                 self.language.node_kind_is_named(kind))
        self[kind] = entry
        return entry


def definitions(tags: Any, root: Any) -> list[tuple[str, str, int, int]]:
    """(name, kind, start_line, end_line) of each definition the tags query finds (1-based),
    sorted."""
    found = []
    for _pattern, captures in tags.matches(root):
        names = captures.get("name")
        if not names:
            continue
        for capture, nodes in captures.items():
            if capture.startswith("definition."):
                node = nodes[0]
                name = names[0].text.decode("utf-8", "replace")
                found.append((name, capture[11:], node.start_point[0] + 1, node.end_point[0] + 1))
    return sorted(found, key=_symbol_order)


def native_definitions(compiled: tags_plan.Compiled, found: list[tuple[int, int, int, int, int]],
                       source: bytes) -> list[tuple[str, str, int, int]]:
    """What ``definitions`` gives, from the native walker's matches of the same patterns."""
    symbols = []
    kinds, checks = compiled.kinds, compiled.checks
    for pattern, name_start, name_end, first_row, last_row in found:
        name = source[name_start:name_end].decode("utf-8", "replace")
        if all(check(name) for check in checks[pattern]):
            symbols.append((name, kinds[pattern], first_row + 1, last_row + 1))
    return sorted(symbols, key=_symbol_order)


def query_definitions(kinds: dict[int, str], found: list[tuple[int, int, int, int, int]],
                      source: bytes) -> list[tuple[str, str, int, int]]:
    """What ``definitions`` gives, from the tags query run by the native core."""
    symbols = [(source[name_start:name_end].decode("utf-8", "replace"), kinds[capture],
                first_row + 1, last_row + 1)
               for capture, name_start, name_end, first_row, last_row in found]
    return sorted(symbols, key=_symbol_order)


def _symbol_order(symbol: tuple[str, str, int, int]) -> tuple[int, int, str, str]:
    return symbol[2], symbol[3], symbol[1], symbol[0]


def _first_error(root: Any) -> str:
    cursor = root.walk()
    while True:  # descend towards the first ERROR or MISSING node, preorder
        node = cursor.node
        if node.is_error or node.is_missing:
            what = "missing " + node.type if node.is_missing else "syntax error"
            return f"{what} at line {node.start_point[0] + 1}"
        if node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return "syntax error"
