"""The AST blob format: flat preorder arrays in msgpack, zlib-compressed.

A blob is ``zlib(msgpack([header, kinds, start_deltas, lengths, depth_deltas, fields]))``
where

- ``header`` = ``{"v": FORMAT_VERSION, "lang": str, "parser": str,
  "types": {kind_id: [name, named]}, "fields": {field_id: name}}`` (both tables list only
  what occurs, so a blob is readable without the grammar);
- the five arrays have one entry per node in preorder (every node, named or not);
- ``fields[i]`` is the grammar's field id under which node i hangs from its parent (0: none),
  so that matching reads "the function of a call" instead of guessing it from child order;
- ``start_deltas[i] = start[i] - start[i-1]`` (``start[-1] = 0``),
  ``lengths[i] = end[i] - start[i]``, ``depth_deltas[i] = depth[i] - depth[i-1]`` (root
  depth 0): small numbers, so msgpack's variable-width integers keep a blob about the size of
  its source, and zlib level 1 (measured on Django: 0.37x of the source, ~0.4 ms a file) a
  third of that.

Decoding uses C-level ``accumulate``/``map`` and never recurses, so a 100k-deep tree is fine.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Sequence
from itertools import accumulate, chain
from operator import add, sub
from typing import Any, NamedTuple

# v1: zlib(msgpack): preorder kinds, delta starts, lengths, delta depths; per-blob type table.
# v2: + each node's field id under its parent, and the field names table.
FORMAT_VERSION = 2
ZLIB_LEVEL = 1


class BlobFormatError(ValueError):
    """The bytes are not an AST blob this version of codelens can read."""


class FlatAst:
    """A decoded tree: parallel preorder arrays plus the names of the kinds that occur."""

    __slots__ = ("language", "parser_version", "kinds", "starts", "ends", "depths", "types",
                 "fields", "field_names", "after")

    def __init__(self, language: str, parser_version: str, kinds: list[int], starts: list[int],
                 ends: list[int], depths: list[int], types: dict[int, tuple[str, bool]],
                 fields: list[int], field_names: dict[int, str],
                 after: Sequence[int] | None = None) -> None:
        self.after = after  # each node's subtree end, when the decoder computed it
        self.language = language
        self.parser_version = parser_version
        self.kinds = kinds
        self.starts = starts
        self.ends = ends
        self.depths = depths
        self.types = types
        self.fields = fields
        self.field_names = field_names

    def __len__(self) -> int:
        return len(self.kinds)


def encode(language: str, parser_version: str, walked: Walked) -> bytes:
    """Pack a walk's preorder node arrays into a blob."""
    import msgpack

    start_deltas = list(map(sub, walked.starts, chain((0,), walked.starts)))
    lengths = list(map(sub, walked.ends, walked.starts))
    arrays = b"".join(map(msgpack.packb, (walked.kinds, start_deltas, lengths,
                                          walked.depth_deltas, walked.fields)))
    return encode_packed(language, parser_version, walked.types, walked.field_names, arrays)


class Walked(NamedTuple):
    """A tree as a preorder walk gives it (parse/library.py), before packing: depths as
    deltas, the way the walk makes them."""

    types: dict[int, tuple[str, bool]]
    field_names: dict[int, str]
    kinds: list[int]
    starts: list[int]
    ends: list[int]
    depth_deltas: list[int]
    fields: list[int]


def encode_packed(language: str, parser_version: str, types: dict[int, tuple[str, bool]],
                  field_names: dict[int, str], arrays: bytes) -> bytes:
    """A blob from the five node arrays already packed as msgpack, one after the other (what
    the native walker returns)."""
    import msgpack

    header = {"v": FORMAT_VERSION, "lang": language, "parser": parser_version,
              "types": types, "fields": field_names}  # (name, named) pack as msgpack arrays
    return zlib.compress(b"\x96" + msgpack.packb(header, use_bin_type=True) + arrays,
                         ZLIB_LEVEL)


def depth_deltas(depths: list[int]) -> list[int]:
    """Absolute depths to the deltas ``encode`` takes."""
    return list(map(sub, depths, chain((0,), depths)))


def absolute_depths(deltas: list[int]) -> list[int]:
    """The inverse of ``depth_deltas``."""
    return list(accumulate(deltas))


def decode(blob: bytes) -> FlatAst:
    """Unpack a blob; raises BlobFormatError for bytes that are not a readable blob. With
    the native module the integer arrays are read in C (a quarter of msgpack's time, and
    the subtree ends come with them)."""
    import msgpack

    from indexer import native

    module: Any = native.module()
    try:
        raw = zlib.decompress(blob)
        if module is not None:
            header, arrays, after = _decode_native(module, raw)
        else:
            header, *arrays = msgpack.unpackb(raw, raw=False, strict_map_key=False)
            after = None
    except (ValueError, TypeError, zlib.error, msgpack.UnpackException) as exc:
        raise BlobFormatError(f"not an AST blob: {exc}") from exc
    if not isinstance(header, dict) or header.get("v") != FORMAT_VERSION:
        raise BlobFormatError(f"AST blob format {_version_of(header)} is not {FORMAT_VERSION}")
    try:
        return _flat(header, arrays, after)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise BlobFormatError(f"not an AST blob: {type(exc).__name__}: {exc}") from exc


def _flat(header: dict[Any, Any], arrays: list[Any], after: Any) -> FlatAst:
    if after is not None:
        kinds, starts, ends, depths, fields = arrays
    else:
        kinds, start_deltas, lengths, depth_deltas, fields = arrays
        starts = list(accumulate(start_deltas))
        ends = list(map(add, starts, lengths))
        depths = list(accumulate(depth_deltas))
    if not len(kinds) == len(starts) == len(ends) == len(depths) == len(fields):
        raise ValueError("its arrays differ in length")
    return FlatAst(
        language=header["lang"],
        parser_version=header["parser"],
        kinds=kinds,
        starts=starts,
        ends=ends,
        depths=depths,
        types={int(k): (v[0], bool(v[1])) for k, v in header["types"].items()},
        fields=fields,
        field_names={int(k): v for k, v in header["fields"].items()},
        after=after,
    )


def _decode_native(module: Any, raw: bytes) -> tuple[Any, list[Any], Any]:
    """(header, [kinds, starts, ends, depths, fields], subtree ends): the header through
    msgpack, the arrays through the native module."""
    import msgpack

    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=len(raw) + 1)
    unpacker.feed(raw)
    if unpacker.read_array_header() != 6:
        raise ValueError("not an array of a header and five arrays")
    header = unpacker.unpack()
    if not isinstance(header, dict) or header.get("v") != FORMAT_VERSION:
        return header, [], None  # (the caller names the format)
    kinds, starts, ends, depths, fields, after = module.unpack_tree(raw, unpacker.tell())
    return header, [kinds, array("q", starts), array("q", ends), depths, fields], \
        array("q", after)


def encode_facts(token_ids: list[int], symbols: list[tuple[str, str, int, int]]) -> bytes:
    """Pack what a content adds to postings and symbols: its distinct token ids, sorted, as
    deltas."""
    import msgpack

    ordered = sorted(set(token_ids))
    return encode_facts_packed(msgpack.packb(list(map(sub, ordered, chain((0,), ordered)))),
                               symbols)


def encode_facts_packed(deltas: bytes, symbols: list[tuple[str, str, int, int]]) -> bytes:
    """``encode_facts`` from the id deltas already packed as msgpack (store/tokenids.py)."""
    import msgpack

    return zlib.compress(b"\x92" + deltas + msgpack.packb(symbols, use_bin_type=True),
                         ZLIB_LEVEL)


def decode_facts(blob: bytes) -> tuple[list[int], list[list[Any]]]:
    """(token ids, symbols as [name, kind, start_line, end_line])."""
    import msgpack

    deltas, symbols = msgpack.unpackb(zlib.decompress(blob), raw=False)
    return list(accumulate(deltas)), symbols


def _version_of(header: Any) -> object:
    return header.get("v") if isinstance(header, dict) else "unknown"
