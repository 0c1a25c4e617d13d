"""Token extraction for the postings: identifier-like words of a file, in C-speed regex.

Every identifier, keyword and word inside string literals and comments of a file is a token;
this is a superset of what a rule's literal can need, so the prefilter stays sound. Tokens shorter
than MIN_LEN or longer than MAX_LEN are not stored; the prefilter never requires such a token.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

MIN_LEN = 2
MAX_LEN = 64
# bump with any change to the extraction below: stored postings are keyed by it
TOKENIZER_VERSION = 1

_WORD = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]+")


def extract_tokens(source: bytes) -> list[str]:
    """The distinct storable tokens of ``source``, in no set order."""
    return _extractor()(source, MAX_LEN)


def python_extract_tokens(source: bytes, max_len: int = MAX_LEN) -> list[str]:
    words = set(_WORD.findall(source))
    return [w.decode("utf-8", "replace") for w in words if len(w) <= max_len]


@functools.cache
def _extractor() -> Callable[[bytes, int], list[str]]:
    """The C scan of indexer._native when it is built (the same words, ~3x faster)."""
    if os.environ.get("CODELENS_NATIVE") != "0":
        try:
            from indexer import _native  # type: ignore[attr-defined]
        except ImportError:
            pass
        else:
            return _native.extract_tokens  # type: ignore[no-any-return]
    return python_extract_tokens


def storable(token: str) -> bool:
    """Whether the postings can hold ``token`` (the prefilter only asks for such tokens)."""
    raw = token.encode("utf-8", "replace")
    return len(raw) <= MAX_LEN and _WORD.fullmatch(raw) is not None
