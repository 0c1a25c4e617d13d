"""Stat-first change detection: which walked files are new, changed, unchanged or gone.

It takes the previous stamps as a plain mapping and never touches the store. A stat difference
only makes a file a candidate: the engine hashes it and a touched file with the same hash is
not a modification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from indexer.model import WalkedFile


class ChangeSet:
    __slots__ = ("added", "stat_changed", "unchanged", "deleted")

    def __init__(self) -> None:
        self.added: list[WalkedFile] = []
        self.stat_changed: list[WalkedFile] = []
        self.unchanged: list[str] = []
        self.deleted: list[str] = []

    @property
    def seen(self) -> int:
        return len(self.added) + len(self.stat_changed) + len(self.unchanged)


def diff(previous: Mapping[str, tuple[int, int, int]],
         current: Iterable[WalkedFile]) -> ChangeSet:
    """Compare a walk with the stamps stored by the last run."""
    changes = ChangeSet()
    seen: set[str] = set()
    for walked in current:
        if walked.path in seen:
            continue  # reported twice (overlapping paths): one change, not two
        seen.add(walked.path)
        before = previous.get(walked.path)
        if before is None:
            changes.added.append(walked)
        elif before != walked.stamp:
            changes.stat_changed.append(walked)
        else:
            changes.unchanged.append(walked.path)
    changes.deleted = sorted(set(previous) - seen)
    return changes
