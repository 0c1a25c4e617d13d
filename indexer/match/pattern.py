"""A semgrep pattern compiled once: parsed by the rule language's grammar, converted to the
normalized tree, with metavariables, ellipses and deep expressions as their own kinds.

The grammars do not know ``$X``, ``$...X``, ``<... e ...>`` or ``(T $X)``, so the text is
first rewritten with placeholders that parse as identifiers or calls
(``lang/base.py`` names them), and ``...`` where the grammar does not take it. Several
spellings are tried, and program wrappers for languages whose statements cannot stand alone
(Java, Go); the first that parses without error is kept.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from indexer.match.lang import converter_for
from indexer.match.lang.base import DEEP, DOTS, MV_PREFIX, MV_SEQ_PREFIX, MV_TYPED_PREFIX, SUFFIX
from indexer.match.node import STATEMENTS, Node, iter_kids, make
from indexer.match.tree import Tree
from indexer.tokens import MAX_LEN, MIN_LEN, storable

MAX_DEPTH = 100  # nodes deep: the matcher recurses along the pattern
MAX_RAW_DEPTH = 250  # the grammar's tree of the pattern, checked before converting it
METAVARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
METAVARIABLE_SEQ = re.compile(r"\$\.\.\.([A-Z_][A-Z0-9_]*)")
TYPED_PARENS = {  # (T $X) and ($X : T) spellings of typed metavariables
    "java": re.compile(
        r"\(\s*(\$?[A-Za-z_][\w.$]*(?:<[^()]*?>)?(?:\[\])*)\s+\$([A-Z_][A-Z0-9_]*)\s*\)"),
    "c": re.compile(r"\(\s*([A-Za-z_][\w.]*\s*\**)\s+\$([A-Z_][A-Z0-9_]*)\s*\)"),
}
TYPE_WRAPPERS = {"go": ("package p\nvar _ ", "\n")}  # where a typed metavariable's type parses
# `foo($X: int)`, `($X : string)`: the parentheses stay (they may be a call's)
TYPED_COLON = re.compile(r"(?<!def )(?<![\w.]\s)(?<=\()\s*\$([A-Z_][A-Z0-9_]*)\s*:\s*"
                         r"([^(),=]+?)\s*(?=\))")
WRAPPERS: dict[str, list[tuple[str, str]]] = {
    "go": [("", "\n"), ("package p\n", "\n"), ("package p\nfunc f() {\n", "\n}\n"),
           ("package p\ntype _ interface {\n", "\n}\n"), ("package p\nvar _ = []T{", "}\n")],
    "java": [("", ""), ("class C {\n", "\n}"), ("class C { void f() {\n", "\n} }"),
             ("class C { void f() {\n", ";\n} }"),
             # partial patterns: a class or a method without body, an annotation alone,
             # `try {...}` without handlers, `finally {...}`, `super(...)`
             ("", " { _CLDOTS_ _CLDOTS_; }"), ("class C {\n", " { _CLDOTS_ _CLDOTS_; }\n}"),
             ("", "\nclass _CLPARTIAL_ {}"), ("class C {\n", "\nvoid _CLPARTIAL_() {}\n}"),
             ("class C { void f() {\n", "\nfinally { _CLPARTIAL_(); } } }"),
             ("class C { void f() {\ntry {}\n", "\n} }"), ("class C { C() {\n", ";\n} }")],
}


class PatternError(ValueError):
    """The pattern is not valid code in the rule's language (or too deep to match)."""


class Pattern(NamedTuple):
    language: str
    source: str
    shape: str  # "expr", "stmt" or "stmts"
    node: Node  # for "stmts": a Block of the statements
    tokens: frozenset[str]  # words every match needs in its file (for the prefilter)


# patterns compiled by this process or handed to it (see ``compiled``/``remember``), the
# oldest dropped past MAX_COMPILED (a daemon sees patterns without end)
_COMPILED: dict[tuple[str, str], Pattern] = {}
MAX_COMPILED = 4096


def compiled() -> dict[tuple[str, str], Pattern]:
    """Every pattern this process has compiled or was given, by (source, language)."""
    return dict(_COMPILED)


def remember(patterns: dict[tuple[str, str], Pattern]) -> None:
    """Patterns compiled elsewhere by this same code (another process, an earlier run):
    ``compile_pattern`` answers them without parsing."""
    _COMPILED.update(patterns)


def compile_pattern(source: str, language: str) -> Pattern:
    """Parse ``source`` as ``language`` (once per process); raises PatternError when it does
    not parse."""
    known = _COMPILED.get((source, language))
    if known is None:
        known = _compile(source, language)
        if len(_COMPILED) >= MAX_COMPILED:
            del _COMPILED[next(iter(_COMPILED))]
        _COMPILED[(source, language)] = known
    return known


def _compile(source: str, language: str) -> Pattern:
    converter = converter_for(language)
    text, types = _rewrite(converter.pattern_source(source.strip()), language)
    for spelling, suffix in _spellings(text, language):
        for before, after in WRAPPERS.get(language) or converter.pattern_wrappers(spelling):
            program = (before + spelling + suffix + after).encode()
            tree = next((t for t in (_parse(program, grammar) for grammar in
                                     converter.pattern_grammars(language)) if t is not None),
                        None)
            if tree is None:
                continue
            if max(tree.depths) > MAX_RAW_DEPTH:
                raise PatternError(f"pattern nested deeper than {MAX_DEPTH} levels: "
                                   f"{source.strip()[:60]!r}")
            span = (len(before.encode()), len(before.encode()) + len(spelling.encode()))
            root = converter(tree, pattern=True).node(0)
            if root is None:
                continue
            found = _extract(root, span)
            if found is None:
                continue
            sequence = found.kind == "Block" and found.raw == -1
            node = _finish(found, types, language)
            if node.kind == "ExprStmt" and node.kids[0] is not None:
                node = node.kids[0]  # a pattern of one expression matches expressions
            _check_depth(node, source)
            shape = "stmts" if sequence else ("stmt" if node.kind in STATEMENTS else "expr")
            return Pattern(language, source, shape, node, tokens_of(node))
    raise PatternError(f"pattern is not valid {language}: {source.strip()[:80]!r}")


def _rewrite(text: str, language: str) -> tuple[str, dict[str, str]]:
    """Placeholders for deep ellipses, typed metavariables and metavariables."""
    types: dict[str, str] = {}
    # <... e ...>, not a generic's <...> (Java's Foo<...>)
    text = re.sub(r"(?<![\w$])<\.\.\.(.*?)\.\.\.>", DEEP + r"(\1)", text, flags=re.S)

    def typed(name: str, type_text: str) -> str:
        types["$" + name] = type_text.strip()
        return MV_TYPED_PREFIX + name

    def typed_parens(match: re.Match[str]) -> str:
        before = re.search(r"([\w$]+)\s*$", match.string[:match.start()])
        if before is not None and before.group(1) not in ("return", "throw", "case"):
            return match.group(0)  # a call's, a declaration's or a catch's parentheses
        return typed(match.group(2), match.group(1))

    parens = TYPED_PARENS.get(language)
    if parens is not None:
        text = parens.sub(typed_parens, text)
    if language in ("python", "go", "typescript", "javascript", "tsx"):
        text = _typed_colons(text, typed)
    text = METAVARIABLE_SEQ.sub(lambda m: MV_SEQ_PREFIX + m.group(1), text)
    text = METAVARIABLE.sub(lambda m: MV_PREFIX + m.group(1), text)
    return text, types


def _typed_colons(text: str, typed: Any) -> str:
    """``$X: T`` inside parentheses that are not a function definition's parameters."""
    out, last = [], 0
    for match in TYPED_COLON.finditer(text):
        before = text[:match.start()].rstrip()[:-1]  # up to the opening parenthesis
        if re.search(r"\b(?:def|function|func)\s*[\w$]*\s*$", before):
            continue
        out.append(text[last:match.start()])
        out.append(typed(match.group(1), match.group(2)))
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _spellings(text: str, language: str) -> list[tuple[str, str]]:
    """(text, suffix) of the ways to write the pattern: as written, then with ``...``
    outside strings as a placeholder name, then the language's own (the converter's
    ``spellings``); code a converter appends after SUFFIX only helps the text parse."""
    dotted = _replace_outside_strings(text, "...", DOTS)
    statement_dots = re.sub(r"(?m)^(\s*)" + DOTS + r"(\s*)$", r"\1" + DOTS + r";\2", dotted)
    spellings = list(dict.fromkeys([text, dotted, statement_dots]))
    return [(t.partition(SUFFIX)[0], t.partition(SUFFIX)[2])
            for t in converter_for(language).spellings(spellings)]


def _replace_outside_strings(text: str, old: str, new: str) -> str:
    out, index, quote = [], 0, ""
    while index < len(text):
        char = text[index]
        if quote:
            out.append(char)
            if char == "\\" and index + 1 < len(text):
                out.append(text[index + 1])
                index += 2
                continue
            if char == quote:
                quote = ""
            index += 1
            continue
        if char in "\"'`":
            quote = char
            out.append(char)
            index += 1
            continue
        if text.startswith(old, index):
            out.append(new)
            index += len(old)
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _parse(program: bytes, language: str) -> Tree | None:
    from indexer.match.snippet import parse_snippet

    return parse_snippet(program, language, strict=True)


def _extract(root: Node, span: tuple[int, int]) -> Node | None:
    """The pattern's own node(s) inside the wrapped program: one node, or a Block of the
    statements that make up the span."""
    start, end = span
    node = root
    while True:
        if node.kind == "Block" and node.value is not None and node.start >= start:
            return node  # a block of a kind written alone: `finally {...}`, `static {...}`
        if node.kind in ("Module", "Block"):
            inside = [s for s in node.kids[0] if s.start >= start and s.end <= end + 1]
            if len(inside) == len(node.kids[0]) or (inside and node is not root):
                if len(inside) == 1:
                    return inside[0]
                return make("Block", start, end, tuple(inside)) if inside else None
        children = [k for k in iter_kids(node) if k.start <= start and k.end >= end]
        if len(children) != 1:
            return node if node.start >= start else None
        node = children[0]


def _finish(node: Node, types: dict[str, str], language: str) -> Node:
    """A fully built copy with pattern kinds in place: ``x. ...`` chains, ``<... e ...>``,
    typed metavariables with their types."""
    kids: tuple[Any, ...] = tuple(_finish_kid(k, types, language) for k in node.kids)
    kind, value = node.kind, node.value
    if kind == "Attr" and kids[1] is not None and kids[1].kind == "Ellipsis":
        return make("DotsChain", node.start, node.end, kids[0])
    if kind == "Call" and kids[0] is not None and kids[0].kind == "Name" and \
            kids[0].value == DEEP and len(kids[1]) == 1:
        return make("DeepEllipsis", node.start, node.end, kids[1][0])
    if kind == "Spread" and kids[0] is not None and kids[0].kind == "Ellipsis":
        return kids[0]  # {**..., k: v}: the spelling of a dictionary's `...`
    if kind == "TypedMetavar":
        return make("TypedMetavar", node.start, node.end,
                    _type_node(types.get(value, ""), language),
                    value=value)
    return Node(kind, node.start, node.end, value, kids)


def _finish_kid(kid: object, types: dict[str, str], language: str) -> object:
    if isinstance(kid, Node):
        return _finish(kid, types, language)
    if isinstance(kid, tuple):
        return tuple(_finish_kid(k, types, language) for k in kid)
    return kid


def _type_node(text: str, language: str) -> Node:
    """A written type: parsed by the language's grammar where it has a place for one
    (``TYPE_WRAPPERS``; the type of a cast ``(T) x`` in languages that write typed
    metavariables ``(T $X)``), else as a dotted name (type arguments and array brackets
    kept in the last name, as written)."""
    parsed = _parsed_type(text, language)
    if parsed is not None:
        return parsed
    if language in TYPED_PARENS and text:
        try:
            cast = compile_pattern(f"(({text}) _CLTYPED_)", language).node
        except PatternError:
            cast = None
        if cast is not None and cast.kind == "Cast" and cast.kids[0] is not None:
            return cast.kids[0]  # type: ignore[no-any-return]
    parts = text.split(".") if text else ["?"]
    node = make("Name", 0, 0, value=parts[0].strip())
    for part in parts[1:]:
        node = make("Attr", 0, 0, node, make("Name", 0, 0, value=part.strip()))
    return node


def _parsed_type(text: str, language: str) -> Node | None:
    wrapper = TYPE_WRAPPERS.get(language)
    if wrapper is None or not text:
        return None
    rewritten, _types = _rewrite(text, language)
    before, after = wrapper
    tree = _parse((before + rewritten + after).encode(), language)
    if tree is None:
        return None
    root = converter_for(language)(tree, pattern=True).node(0)
    start = len(before.encode())
    found = _extract(root, (start, start + len(rewritten.encode()))) if root else None
    return _finish(found, {}, language) if found is not None else None


def _check_depth(node: Node, source: str) -> None:
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PatternError(f"pattern nested deeper than {MAX_DEPTH} levels: "
                               f"{source.strip()[:60]!r}")
        stack.extend((k, depth + 1) for k in iter_kids(current))


def tokens_of(node: Node) -> frozenset[str]:
    """Identifiers every match must contain: names and attribute names of the pattern
    (never metavariables, string contents or keywords: constant propagation and other
    equivalences can match code that spells those differently)."""
    words = set()
    stack = [node]
    while stack:
        sub = stack.pop()
        if sub.kind == "TypedMetavar":
            continue  # its type may be inferred from a literal, never written
        stack.extend(iter_kids(sub))
        if sub.kind == "Name" and isinstance(sub.value, str) and not sub.value.startswith("_CL"):
            word = sub.value
            if MIN_LEN <= len(word.encode()) <= MAX_LEN and storable(word):
                words.add(word)
    return frozenset(words)
