"""Text parsed on the spot into a Tree: rule patterns, metavariable contents matched in
another language, unsaved editor buffers."""

from __future__ import annotations

import functools
from typing import Any

from indexer import codec
from indexer.match.tree import Tree


def parse_snippet(text: str | bytes, language: str, strict: bool = False) -> Tree | None:
    """``text`` parsed as ``language``; None when ``strict`` and it has a syntax error, or
    when no grammar can parse the language."""
    from indexer import languages
    from indexer.parse.library import flatten

    source = text.encode("utf-8") if isinstance(text, str) else text
    try:
        parser = _parsers().parser(language)
        grammar = languages.load_grammar(language)
    except languages.GrammarUnavailable:
        return None
    parsed = parser.parse(source)
    if strict and parsed.root_node.has_error:
        return None
    walked = flatten(parsed, grammar.language)
    flat = codec.FlatAst(language, grammar.version, walked.kinds, walked.starts, walked.ends,
                         codec.absolute_depths(walked.depth_deltas), walked.types,
                         walked.fields, walked.field_names)
    return Tree(flat, source)


@functools.cache
def _parsers() -> Any:
    from indexer.parse.library import Parsers

    return Parsers()
