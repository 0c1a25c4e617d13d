"""From a rule to the tokens every match must contain, and from those to candidate files.

A requirement is None ("no idea": every file must be checked), ``("and", tokens, subs)`` or
``("or", subs)``. A pattern requires the words of its compiled form (match/pattern.py says
which: names, never strings or keywords); ``patterns`` intersects its positive operands
(``pattern-inside`` included); ``pattern-either`` unions, and is "no idea" as soon as one
branch is; a ``metavariable-pattern`` without a language of its own adds its formula's
requirement; negations, regexes and the other conditions drop out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apsw

Requirement = tuple[Any, ...] | None


def required_tokens(formula: Any, words: Callable[[str], frozenset[str] | None]) -> Requirement:
    """``formula``: a match.formula value; ``words(pattern source)`` gives the words a
    pattern's every match contains (None when it cannot tell)."""
    kind = type(formula).__name__
    if kind == "PatternLeaf":
        tokens = words(formula.source)
        return ("and", frozenset(tokens), ()) if tokens else None
    if kind == "Or":
        branches = [required_tokens(c, words) for c in formula.items]
        return None if any(b is None for b in branches) else ("or", tuple(branches))
    if kind in ("Inside", "Anywhere"):
        return required_tokens(formula.item, words)
    if kind == "And":
        parts = [required_tokens(c, words) for c in formula.items
                 if type(c).__name__ in POSITIVE]
        # a metavariable-pattern in the rule's language matches code of the same file (a
        # name's import or assignment included), so what it requires the file holds too
        parts += [required_tokens(c.formula, words) for c in formula.items
                  if type(c).__name__ == "MetavarPattern" and c.language is None]
        known = tuple(p for p in parts if p is not None)
        return ("and", frozenset(), known) if known else None
    return None  # negations, regexes, conditions: say nothing about what a file must contain


POSITIVE = ("PatternLeaf", "Or", "And", "Inside", "Anywhere")


def tokens_of(requirement: Requirement) -> set[str]:
    if requirement is None:
        return set()
    if requirement[0] == "or":
        return set().union(*(tokens_of(r) for r in requirement[1]))
    return set(requirement[1]).union(*(tokens_of(r) for r in requirement[2]))


def token_ids(connection: apsw.Connection, tokens: set[str]) -> dict[str, int]:
    if not tokens:
        return {}
    return {text: token_id for text, token_id in connection.execute(
        "SELECT t.text, t.id FROM carray(?) c JOIN tokens t ON t.text = c.value",
        (apsw.carray(tuple(tokens)),))}


def to_sql(requirement: tuple[Any, ...], ids: dict[str, int]) -> str:
    """A compound SELECT of file ids; a token never seen makes its AND empty."""
    if requirement[0] == "or":
        return " UNION ".join(f"SELECT * FROM ({to_sql(r, ids)})" for r in requirement[1])
    _and, tokens, subs = requirement
    parts = []
    for token in sorted(tokens):
        if token not in ids:
            return "SELECT file_id FROM postings WHERE 0"
        parts.append(f"SELECT file_id FROM postings WHERE token_id = {int(ids[token])}")
    parts += [f"SELECT * FROM ({to_sql(s, ids)})" for s in subs]
    return " INTERSECT ".join(parts)


def candidate_file_ids(connection: apsw.Connection, requirement: Requirement,
                       ids: dict[str, int]) -> set[int] | None:
    """The ids of files that can match, or None when every file can."""
    if requirement is None:
        return None
    return {file_id for (file_id,) in connection.execute(to_sql(requirement, ids))}
