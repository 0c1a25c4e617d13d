"""The literal words of a semgrep pattern: what any match must contain verbatim."""

from __future__ import annotations

import re

from indexer.tokens import MAX_LEN, MIN_LEN, storable

METAVARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")
# any non-ASCII character is a word character, as any non-ASCII byte is in indexer.tokens
# (written negated: a \x80-\uffff range costs every process ~11 ms to compile)
WORD = re.compile(r"(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z0-9_]|[^\x00-\x7f])*")


def literal_tokens(source: str) -> frozenset[str]:
    """Words in the pattern that any match must contain verbatim: not metavariables, not
    ellipses, and only words the postings store (the prefilter may not ask for others)."""
    text = METAVARIABLE.sub(" ", source).replace("...", " ")
    return frozenset(w for w in WORD.findall(text)
                     if MIN_LEN <= len(w.encode()) <= MAX_LEN and storable(w))
