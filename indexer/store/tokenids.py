"""Token bytes -> tokens.id for the writer, and the int64 arrays postings and facts are made of.

Every parsed file brings hundreds of tokens; mapping them, sorting a file's ids and making its
postings ran ~20% of a commit in Python. indexer._native does it in C when it is built; the
Python classes here are the same thing, slower, for when it is not (``CODELENS_NATIVE=0``).
Id arrays are native int64s in bytes (``array('q')``), sorted and distinct.
"""

from __future__ import annotations

from array import array
from itertools import chain
from operator import sub
from typing import Any

from indexer import native
from indexer.tokens import split_tokens


class TokenIds:
    """Which id each token has; tokens are learnt (new to this map), then assigned ids."""

    def __init__(self) -> None:
        self._native = native.module()
        self._table: Any = self._native.tokens_new() if self._native else {}

    def learn(self, joined: bytes) -> list[bytes]:
        """The tokens of ``joined`` this map has not seen, each once."""
        if self._native:
            return self._native.tokens_learn(self._table, joined)  # type: ignore[no-any-return]
        new = [token for token in dict.fromkeys(split_tokens(joined)) if token not in self._table]
        self._table.update(dict.fromkeys(new, 0))
        return new

    def assign(self, tokens: list[bytes], ids: list[int]) -> None:
        if self._native:
            self._native.tokens_assign(self._table, tokens, ids)
        else:
            self._table.update(zip(tokens, ids, strict=True))

    def ids(self, joined: bytes) -> bytes:
        """The ids of the tokens of ``joined``, sorted and distinct (all must be assigned)."""
        if self._native:
            return self._native.tokens_ids(self._table, joined)  # type: ignore[no-any-return]
        found = sorted({self._table[token] for token in split_tokens(joined)})
        if found and found[0] == 0:
            raise KeyError("a token has no id yet")
        return array("q", found).tobytes()

    def postings(self, ids: bytes, file_id: int) -> bytes:
        """``id << 32 | file_id`` for each id."""
        if self._native:
            return self._native.postings(ids, file_id)  # type: ignore[no-any-return]
        return array("q", [token_id << 32 | file_id for token_id in array("q", ids)]).tobytes()

    def deltas(self, ids: bytes) -> bytes:
        """msgpack of the differences between consecutive ids (the first from 0)."""
        if self._native:
            return self._native.deltas(ids)  # type: ignore[no-any-return]
        import msgpack

        values = array("q", ids)
        return msgpack.packb(list(map(sub, values, chain((0,), values))))  # type: ignore[no-any-return]

    def sort_unique(self, values: bytes) -> bytes:
        if self._native:
            return self._native.sort_int64(values)  # type: ignore[no-any-return]
        return array("q", sorted(set(array("q", values)))).tobytes()


def from_list(ids: list[int]) -> bytes:
    return array("q", sorted(set(ids))).tobytes()
