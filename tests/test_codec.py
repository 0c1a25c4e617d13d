"""The AST blob: lossless round trips, real trees, deep nesting, refusal of foreign bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import codec, languages
from indexer.match.tree import subtree_ends_python
from indexer.parse import library
from indexer.store import tokenids


@st.composite
def preorder_trees(draw: st.DrawFn) -> tuple[list[int], list[int], list[int], list[int]]:
    """Valid preorder arrays: depth starts at 0, rises by at most 1, starts never decrease."""
    size = draw(st.integers(1, 200))
    kinds, starts, ends, depths = [], [], [], []
    position, depth = 0, 0
    for i in range(size):
        if i:
            depth = draw(st.integers(1, depth + 1))
        position += draw(st.integers(0, 50))
        kinds.append(draw(st.integers(0, 400)))
        starts.append(position)
        ends.append(position + draw(st.integers(0, 5000)))
        depths.append(depth)
    return kinds, starts, ends, depths


@given(preorder_trees())
def test_round_trip_is_lossless(tree: tuple[list[int], list[int], list[int], list[int]]) -> None:
    kinds, starts, ends, depths = tree
    types = {k: (f"kind{k}", k % 2 == 0) for k in set(kinds)}
    fields = [k % 3 for k in kinds]  # any small ids, 0 (no field) among them
    names = {f: f"field{f}" for f in set(fields) if f}
    decoded = codec.decode(codec.encode("python", "v1", codec.Walked(
        types, names, kinds, starts, ends, codec.depth_deltas(depths), fields)))
    assert (decoded.kinds, list(decoded.starts), list(decoded.ends), decoded.depths) == tree
    if decoded.after is not None:  # the native decoder computes the subtree ends too
        assert list(decoded.after) == subtree_ends_python(depths)
    assert decoded.types == types
    assert decoded.fields == fields and decoded.field_names == names
    assert decoded.language == "python" and decoded.parser_version == "v1"


@given(st.lists(st.integers(0, 2**31 - 1)),
       st.lists(st.tuples(st.text(), st.text(), st.integers(1, 10**6), st.integers(1, 10**6))))
def test_facts_round_trip(token_ids: list[int], symbols: list[tuple[str, str, int, int]]) -> None:
    ids, decoded = codec.decode_facts(codec.encode_facts(token_ids, symbols))
    assert ids == sorted(set(token_ids))
    assert decoded == [list(s) for s in symbols]
    packed = tokenids.TokenIds().deltas(tokenids.from_list(token_ids))  # the writer's way, in C
    assert codec.encode_facts_packed(packed, symbols) == codec.encode_facts(token_ids, symbols)


def _tree_sitter_preorder(source: bytes) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, field under the parent) of every node, from tree-sitter's nodes."""
    import tree_sitter

    grammar = languages.load_grammar("python")
    tree = tree_sitter.Parser(grammar.language).parse(source)
    nodes, stack = [], [(tree.root_node, "")]
    while stack:
        node, field = stack.pop()
        nodes.append((node.type, node.start_byte, node.end_byte, field))
        children = [(child, node.field_name_for_child(i) or "")
                    for i, child in enumerate(node.children)]
        stack.extend(reversed(children))
    return nodes


def test_real_tree_matches_tree_sitter() -> None:
    source = b"def f(a, b=2):\n    return [x * a for x in b if x]  # note\n\nclass C(f): pass\n"
    parsers = library.Parsers()
    parser, grammar = parsers.parser("python"), languages.load_grammar("python")
    flat = codec.decode(codec.encode("python", grammar.version,
                                     library.flatten(parser.parse(source), grammar.language)))
    ours = [(flat.types[flat.kinds[i]][0], flat.starts[i], flat.ends[i],
             flat.field_names.get(flat.fields[i], "")) for i in range(len(flat))]
    assert ours == _tree_sitter_preorder(source)
    assert {"name", "parameters", "body", "left"} <= set(flat.field_names.values())
    parents = parents_of(flat.depths)
    assert parents[0] == -1 and all(0 <= p < i for i, p in enumerate(parents) if i)
    assert all(flat.starts[p] <= flat.starts[i] and flat.ends[i] <= flat.ends[p]
               for i, p in enumerate(parents) if i)  # every node inside its parent


def test_hundred_thousand_deep_nesting_round_trips() -> None:
    depth = 100_000
    source = b"x = " + b"(" * depth + b"1" + b")" * depth + b"\n"
    parsers = library.Parsers()
    parser, grammar = parsers.parser("python"), languages.load_grammar("python")
    flat = codec.decode(codec.encode("python", grammar.version,
                                     library.flatten(parser.parse(source), grammar.language)))
    assert max(flat.depths) > depth
    parents = parents_of(flat.depths)
    assert parents[-1] >= 0 and flat.depths[0] == 0


def parents_of(depths: list[int]) -> list[int]:
    """Each node's parent index from preorder depths (-1 for the root), with a stack."""
    parents, stack = [-1] * len(depths), []
    for i, depth in enumerate(depths):
        del stack[depth:]
        if stack:
            parents[i] = stack[-1]
        stack.append(i)
    return parents


@pytest.mark.parametrize("blob", [b"", b"not a blob", b"\x78\x01garbage"])
def test_foreign_bytes_are_refused(blob: bytes) -> None:
    with pytest.raises(codec.BlobFormatError):
        codec.decode(blob)


def test_other_format_version_is_refused() -> None:
    import zlib

    import msgpack

    blob = zlib.compress(msgpack.packb([{"v": codec.FORMAT_VERSION + 1}, [], [], [], [], []]))
    with pytest.raises(codec.BlobFormatError, match="format"):
        codec.decode(blob)


@settings(max_examples=50, deadline=None)
@given(preorder_trees(), st.data())
def test_a_blob_cut_or_damaged_anywhere_is_refused_not_misread(
        tree: tuple[list[int], list[int], list[int], list[int]], data: st.DataObject) -> None:
    """The native decoder reads the arrays itself: bytes cut short or changed at any point
    are a BlobFormatError or decode as the Python path decodes them, never a crash."""
    import zlib

    kinds, starts, ends, depths = tree
    raw = zlib.decompress(codec.encode("python", "v1", codec.Walked(
        {k: (f"kind{k}", True) for k in set(kinds)}, {}, kinds, starts, ends,
        codec.depth_deltas(depths), [0] * len(kinds))))
    at = data.draw(st.integers(0, len(raw) - 1))
    damaged = [raw[:at], raw[:at] + bytes([data.draw(st.integers(0, 255))]) + raw[at + 1:]]
    for bad in damaged:
        blob = zlib.compress(bad)
        try:
            native = codec.decode(blob)
        except codec.BlobFormatError:
            continue
        assert len(native.kinds) == len(native.starts) == len(native.depths)
