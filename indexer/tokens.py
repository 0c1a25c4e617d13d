"""Token extraction for the postings: identifier-like words of a file, in C-speed regex.

Every identifier, keyword and word inside string literals and comments of a file is a token;
this is a superset of what a rule's literal can need, so the prefilter stays sound. Tokens shorter
than MIN_LEN or longer than MAX_LEN are not stored; the prefilter never requires such a token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

MIN_LEN = 2
MAX_LEN = 64
# bump with any change to the extraction below: stored postings are keyed by it
TOKENIZER_VERSION = 1

_WORD = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]+")


def extract_tokens(source: bytes) -> bytes:
    """The distinct storable tokens of ``source`` as they are in it (bytes), joined by
    newlines (which no token contains), in no set order: one object per file to hand between
    processes, instead of a list of hundreds of strings."""
    return _extractor()(source, MAX_LEN)


def split_tokens(joined: bytes) -> list[bytes]:
    """The tokens of an ``extract_tokens`` result."""
    return joined.split(b"\n") if joined else []


def token_text(token: bytes) -> str:
    """How a token is stored and asked for (invalid UTF-8 replaced)."""
    return token.decode("utf-8", "replace")


def python_extract_tokens(source: bytes, max_len: int = MAX_LEN) -> bytes:
    return b"\n".join(w for w in set(_WORD.findall(source)) if len(w) <= max_len)


@functools.cache
def _extractor() -> Callable[[bytes, int], bytes]:
    """The C scan of indexer._native when it is built (the same words, ~3x faster)."""
    from indexer import native

    found = native.module()
    return python_extract_tokens if found is None else found.extract_tokens  # type: ignore[no-any-return]


def storable(token: str) -> bool:
    """Whether the postings can hold ``token`` (the prefilter only asks for such tokens)."""
    raw = token.encode("utf-8", "replace")
    return len(raw) <= MAX_LEN and _WORD.fullmatch(raw) is not None
