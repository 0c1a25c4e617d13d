"""Stat-first change detection as a pure function, checked against a model with hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indexer.changes import diff
from indexer.model import FileStamp, WalkedFile

stamps = st.builds(FileStamp, st.integers(0, 3), st.integers(0, 3), st.integers(0, 3))
trees = st.dictionaries(st.sampled_from([f"f{i}.py" for i in range(12)]), stamps)


@given(trees, trees)
def test_diff_partitions_the_walk(before: dict[str, FileStamp],
                                  after: dict[str, FileStamp]) -> None:
    changes = diff(before, [WalkedFile(p, s) for p, s in after.items()])
    assert {w.path for w in changes.added} == after.keys() - before.keys()
    assert changes.deleted == sorted(before.keys() - after.keys())
    assert {w.path for w in changes.stat_changed} == {
        p for p in after.keys() & before.keys() if before[p] != after[p]}
    assert set(changes.unchanged) == {p for p in after.keys() & before.keys()
                                      if before[p] == after[p]}
    assert changes.seen == len(after)


def test_plain_tuples_compare_equal_to_stamps() -> None:
    # the store hands back plain (size, mtime_ns, inode) tuples: they must compare as stamps
    changes = diff({"a.py": (1, 2, 3)}, [WalkedFile("a.py", FileStamp(1, 2, 3))])
    assert changes.unchanged == ["a.py"]
