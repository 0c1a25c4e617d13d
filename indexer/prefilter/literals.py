"""The literal words of a semgrep pattern: what any match must contain verbatim."""

from __future__ import annotations

import re

from indexer.tokens import MAX_LEN, MIN_LEN, storable

METAVARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")
WORD = re.compile(r"[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*")


def literal_tokens(source: str) -> frozenset[str]:
    """Words in the pattern that any match must contain verbatim: not metavariables, not
    ellipses, and only words the postings store (the prefilter may not ask for others)."""
    text = METAVARIABLE.sub(" ", source).replace("...", " ")
    return frozenset(w for w in WORD.findall(text)
                     if MIN_LEN <= len(w.encode()) <= MAX_LEN and storable(w))
