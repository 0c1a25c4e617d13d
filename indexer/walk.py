"""The files under a root that an index covers.

Ignore rules have real .gitignore semantics through ``pathspec``: a ``.gitignore`` or
``.codelensignore`` applies below its own directory, deeper files win, ``!`` re-includes, and
``.git/info/exclude`` applies to the whole tree. ``.git/`` and ``.codelens/`` are never walked.
Symlinks are followed only to targets inside the root, and each real directory is walked once,
so links out of the tree are skipped and loops are harmless.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.model import FileStamp, WalkedFile

NEVER_WALKED = frozenset({".git", ".codelens"})
IGNORE_FILES = (".gitignore", ".codelensignore")


@dataclass
class WalkReport:
    """What a walk could not look at, as (relative path, reason), for the summary."""

    problems: list[tuple[str, str]] = field(default_factory=list)
    links_skipped: int = 0


@dataclass(frozen=True)
class _Rules:
    base: str  # relative directory the rules apply under, '' or ending in '/'
    spec: object  # pathspec.GitIgnoreSpec


def _load_rules(directory: Path, base: str, names: tuple[str, ...]) -> list[_Rules]:
    lines: list[str] = []
    for name in names:
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            continue  # an unreadable ignore file ignores nothing, like git
    if not lines:
        return []
    import pathspec

    return [_Rules(base, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignored(rules: list[_Rules], rel: str) -> bool:
    verdict = False
    for rule in rules:  # shallow to deep: the deepest matching rule decides, as in git
        if rel.startswith(rule.base):
            include = rule.spec.check_file(rel[len(rule.base):]).include  # type: ignore[attr-defined]
            if include is not None:
                verdict = include
    return verdict


def walk(root: Path, report: WalkReport | None = None) -> Iterator[WalkedFile]:
    """Every non-ignored regular file under ``root``, with its stat stamp."""
    report = report if report is not None else WalkReport()
    root = root.resolve()
    rules = _load_rules(root / ".git" / "info", "", ("exclude",))
    seen_dirs = {_dir_key(root)}
    stack: list[tuple[Path, str, list[_Rules]]] = [(root, "", rules)]
    while stack:
        directory, prefix, inherited = stack.pop()
        rules = inherited + _load_rules(directory, prefix, IGNORE_FILES)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            report.problems.append((prefix.rstrip("/") or ".", f"cannot list: {exc.strerror}"))
            continue
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            found = _classify(entry, root, rel, rules, seen_dirs, report)
            if isinstance(found, WalkedFile):
                yield found
            elif found is not None:
                subdirs.append((found, rel + "/", rules))
        stack.extend(reversed(subdirs))  # preorder, sorted: a deterministic walk


def _classify(entry: os.DirEntry[str], root: Path, rel: str, rules: list[_Rules],
              seen_dirs: set[tuple[int, int]], report: WalkReport) -> WalkedFile | Path | None:
    """A file to index, a directory to descend into, or None to skip."""
    if entry.name in NEVER_WALKED:
        return None
    is_link = False
    try:
        is_link = entry.is_symlink()
        info = entry.stat()  # follows a link: the target's stat
    except OSError as exc:
        if not is_link_broken(entry):
            report.problems.append((rel, f"cannot stat: {exc.strerror}"))
        return None
    if stat.S_ISDIR(info.st_mode):
        if _ignored(rules, rel + "/"):
            return None
        path = Path(entry.path)
        if is_link and not _inside(path, root):
            report.links_skipped += 1
            return None
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            return None  # a link loop or a second link to a walked directory
        seen_dirs.add(key)
        return path
    if not stat.S_ISREG(info.st_mode) or _ignored(rules, rel):
        return None
    if is_link and not _inside(Path(entry.path), root):
        report.links_skipped += 1
        return None
    return WalkedFile(rel, FileStamp(info.st_size, info.st_mtime_ns, info.st_ino))


def is_link_broken(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and not os.path.exists(entry.path)
    except OSError:
        return False


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


def _dir_key(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino
