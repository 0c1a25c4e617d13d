"""Stat-first change detection: which walked files are new, changed, unchanged or gone.

It takes the previous stamps as a plain mapping and never touches the store. A stat difference
only makes a file a candidate: the engine hashes it and a touched file with the same hash is
not a modification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from indexer.model import WalkedFile


@dataclass
class ChangeSet:
    added: list[WalkedFile] = field(default_factory=list)
    stat_changed: list[WalkedFile] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return len(self.added) + len(self.stat_changed) + len(self.unchanged)


def diff(previous: Mapping[str, tuple[int, int, int]],
         current: Iterable[WalkedFile]) -> ChangeSet:
    """Compare a walk with the stamps stored by the last run."""
    changes = ChangeSet()
    seen: set[str] = set()
    for walked in current:
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


def sha256_of(abspath: str) -> str | None:
    """Hex SHA-256 of a file's bytes, or None when it cannot be read (gone, unreadable)."""
    try:
        with open(abspath, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None
