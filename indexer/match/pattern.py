"""A semgrep pattern compiled into a small tree, by the same grammar that parses the target.

``$X`` metavariables and ``...`` ellipses are not valid code in most languages, so they are
replaced by placeholder identifiers before parsing. A snippet that is not a whole program in
its language (a Go statement, a Java expression) is parsed inside a wrapper, and the nodes
covering the snippet are taken out of the tree. Anonymous children (operators, keywords) are
kept as a signature of their kind names; punctuation is ignored.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from indexer.parse.library import Parsers
from indexer.prefilter.literals import literal_tokens

METAVARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
MV_PREFIX = "CLMV_"
ELLIPSIS = "CLELLIPSIS_"
PUNCTUATION = frozenset("( ) [ ] { } , ; : . :: => -> ' \" ` \n".split() + ["\n", ""])
WRAPPERS: dict[str, list[tuple[str, str]]] = {  # (before, after) the snippet
    "go": [("", ""), ("package p\n", ""), ("package p\nfunc f() {\n", "\n}")],
    "java": [("", ""), ("class C {\n", "\n}"), ("class C { void f() {\n", "\n} }"),
             ("class C { void f() {\n", ";\n} }")],
    "c": [("", ""), ("void f() {\n", "\n}"), ("void f() {\n", ";\n}")],
    "cpp": [("", ""), ("void f() {\n", "\n}"), ("void f() {\n", ";\n}")],
    "c_sharp": [("", ""), ("class C { void F() {\n", "\n} }"),
                ("class C { void F() {\n", ";\n} }")],
    "php": [("<?php\n", ""), ("<?php\n", ";")],
    "rust": [("", ""), ("fn f() {\n", "\n}"), ("fn f() {\n", ";\n}")],
    "kotlin": [("", ""), ("fun f() {\n", "\n}")],
    "scala": [("", ""), ("object O {\n", "\n}")],
}
DEFAULT_WRAPPERS = [("", "")]


_PARSERS = Parsers()


class PatternError(ValueError):
    """The pattern is not valid code in the rule's language."""


class PNode(NamedTuple):
    kind: str
    text: str  # source of the node (compared for leaves: nodes without any children)
    children: tuple[PNode, ...]  # named children
    anon: tuple[str, ...]  # anonymous, non-punctuation children's kinds (operators, keywords)
    metavariable: str = ""  # "$X" when the node is a metavariable
    ellipsis: bool = False
    any_string: bool = False  # a "..." string literal
    leaf: bool = False  # no children at all, named or not: compared by text
    needles: tuple[bytes, ...] = ()  # literal leaf texts a matching node's text must contain


class Pattern(NamedTuple):
    language: str
    source: str
    nodes: tuple[PNode, ...]  # one node, or a sequence of statements
    tokens: frozenset[str]  # words every match must contain (for the prefilter)


def compile_pattern(source: str, language: str) -> Pattern:
    """Parse ``source`` as ``language``; raises PatternError when no wrapper makes it parse."""
    parser = _PARSERS.parser(language)
    for text in _spellings(source.strip()):
        for before, after in WRAPPERS.get(language, DEFAULT_WRAPPERS):
            program = (before + text + after).encode()
            tree = parser.parse(program)
            span = (len(before.encode()), len(before.encode()) + len(text.encode()))
            nodes = _covering(tree.root_node, span)
            if nodes and not any(_has_error(n) for n in nodes):
                compiled = tuple(_convert(n, program) for n in nodes)
                return Pattern(language, source, compiled, literal_tokens(source))
    raise PatternError(f"pattern is not valid {language}: {source.strip()[:80]!r}")


STATEMENT_ELLIPSIS = re.compile(r"(?m)^(\s*)\.\.\.(\s*)$")
BLOCK_ELLIPSIS = re.compile(r"\{\s*\.\.\.\s*\}")
PARAMETER_ELLIPSIS = re.compile(r"\(\s*\.\.\.\s*\)")


def _spellings(text: str) -> list[str]:
    """Ways to write the placeholders so the snippet parses: plain identifiers; a statement
    `...` ending in `;` (C-like languages); `(...)` as a typed parameter (Java, C#)."""
    text = METAVARIABLE.sub(lambda m: MV_PREFIX + m.group(1), text)
    plain = text.replace("...", ELLIPSIS)
    statements = BLOCK_ELLIPSIS.sub("{ " + ELLIPSIS + "; }", STATEMENT_ELLIPSIS.sub(
        lambda m: m.group(1) + ELLIPSIS + ";" + m.group(2), text))
    typed = PARAMETER_ELLIPSIS.sub(f"({ELLIPSIS} {ELLIPSIS})", statements)
    return list(dict.fromkeys([plain, statements.replace("...", ELLIPSIS),
                               typed.replace("...", ELLIPSIS)]))


def _has_error(node: Any) -> bool:
    return bool(node.has_error or node.is_missing)


def _covering(root: Any, span: tuple[int, int]) -> list[Any]:
    """The named nodes that together cover exactly the snippet, unwrapped to the innermost."""
    node = root
    while True:  # descend to the smallest node containing the span
        inner = [c for c in node.named_children
                 if c.start_byte <= span[0] and c.end_byte >= span[1]]
        if not inner:
            break
        node = inner[0]
    if node.parent is not None and _trimmed(node, span):
        nodes = [node]
    else:
        nodes = [c for c in node.named_children
                 if c.start_byte >= span[0] and c.end_byte <= span[1]]
    while len(nodes) == 1 and len(nodes[0].named_children) == 1 and _same_span(
            nodes[0], nodes[0].named_children[0]) and not _significant_anon(nodes[0]):
        nodes = [nodes[0].named_children[0]]  # expression_statement(call) -> call
    return nodes


def _trimmed(node: Any, span: tuple[int, int]) -> bool:
    return bool(node.start_byte >= span[0] and node.end_byte <= span[1] + 1)


def _same_span(outer: Any, inner: Any) -> bool:
    text = outer.text or b""
    return bool(outer.start_byte == inner.start_byte and
                text[inner.end_byte - outer.start_byte:].strip(b";\n ") == b"")


def _significant_anon(node: Any) -> bool:
    return any(not c.is_named and c.type not in PUNCTUATION for c in node.children)


def _convert(node: Any, program: bytes) -> PNode:
    text = program[node.start_byte:node.end_byte].decode("utf-8", "replace")
    named = [c for c in node.children if c.is_named and c.type != "comment"]
    anon = tuple(c.type for c in node.children if not c.is_named and c.type not in PUNCTUATION)
    if not named and text.startswith(MV_PREFIX) and text[len(MV_PREFIX):].isidentifier():
        return PNode(node.type, text, (), (), metavariable="$" + text[len(MV_PREFIX):])
    if not named and text == ELLIPSIS:
        return PNode(node.type, text, (), (), ellipsis=True)
    if "string" in node.type and text.strip("\"'`") == ELLIPSIS:
        return PNode(node.type, text, (), (), any_string=True)
    children = tuple(_convert(c, program) for c in named)
    if children and all(c.ellipsis for c in children) and not anon:
        # a statement that is just `...`, a parameter written `... ...`
        return PNode(node.type, text, (), (), ellipsis=True)
    leaf = node.child_count == 0
    needles = {text.encode()} if leaf else set()
    for child in children:
        needles.update(child.needles)
    return PNode(node.type, text, children, anon, leaf=leaf,
                 needles=tuple(sorted(needles, key=len, reverse=True)))
