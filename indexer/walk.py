"""The files under a root that an index covers.

Ignore rules have real .gitignore semantics through ``pathspec``: a ``.gitignore``, a
``.codelensignore`` or a ``.semgrepignore`` applies below its own directory, deeper files win,
``!`` re-includes, and ``.git/info/exclude`` applies to the whole tree. ``.git/`` and
``.codelens/`` are never walked.
A symlink to a regular file inside the root is indexed; links out of the root and links to
directories are not followed (as ripgrep does by default), so a link loop cannot happen.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple

from indexer import native
from indexer.model import FileStamp, WalkedFile

NEVER_WALKED = frozenset({".git", ".codelens"})
IGNORE_FILES = (".gitignore", ".codelensignore", ".semgrepignore")
UNDECODABLE = "not indexed: its name is not valid UTF-8"


class WalkReport:
    """What a walk could not look at, as (relative path, reason), for the summary."""

    __slots__ = ("problems", "links_skipped", "pruned")

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.links_skipped = 0
        self.pruned: list[str] = []  # folders the ignore rules kept the walk out of


def tree_digest(root: Path, pruned: list[str]) -> str | None:
    """What stat says of everything under ``root`` outside ``.git``, ``.codelens`` and the
    ``pruned`` folders, and of ``.git/info/exclude``, in one string: equal strings mean the
    walk would find the same files with the same stamps (and the same ignore files). None
    when something could not be read, or without the native module."""
    helpers = native.module()
    if helpers is None:
        return None
    top = str(root.resolve())
    found = helpers.tree_digest(top, NEVER_WALKED, frozenset(pruned))
    if found is None:
        return None
    try:
        info = os.stat(os.path.join(top, ".git", "info", "exclude"))
        exclude = f"{info.st_size}.{info.st_mtime_ns}.{info.st_ino}"
    except FileNotFoundError:
        exclude = "-"
    except OSError:
        return None
    return f"{found[0]}:{found[1]}:{exclude}"




class _Rules(NamedTuple):
    base: str  # relative directory the rules apply under, '' or ending in '/'
    spec: object  # pathspec.GitIgnoreSpec


def _load_rules(directory: str, base: str, names: list[str]) -> list[_Rules]:
    lines: list[str] = []
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                lines += f.read().splitlines()
        except OSError:
            continue  # gone since listed, or unreadable: it ignores nothing, as in git
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


def _root_rules(top: str) -> list[_Rules]:
    info_dir = os.path.join(top, ".git", "info")
    return _load_rules(info_dir, "", ["exclude"]) if os.path.isfile(
        os.path.join(info_dir, "exclude")) else []


def walk(root: Path, report: WalkReport | None = None) -> list[WalkedFile]:
    """Every non-ignored regular file under ``root``, with its stat stamp (in no set order)."""
    top = str(root.resolve())
    return _walk_from(top, [(top, "", _root_rules(top))], [], report or WalkReport())


def walk_paths(root: Path, paths: set[str], report: WalkReport | None = None) -> list[WalkedFile]:
    """What ``walk`` would find at or under each relative path (a file or a folder), with the
    same ignore rules: those of every folder above it apply."""
    report = report if report is not None else WalkReport()
    top = str(root.resolve())
    found: list[WalkedFile] = []
    stack: list[tuple[str, str, list[_Rules]]] = []
    # the rules inside the root: .git/info/exclude, then the root's own ignore files
    present = [n for n in IGNORE_FILES if os.path.isfile(os.path.join(top, n))]
    chains: dict[str, list[_Rules] | None] = {
        "": _root_rules(top) + (_load_rules(top, "", present) if present else [])}
    wanted: dict[str, set[str]] = {}  # parent folder -> names asked for in it
    for rel in _outermost(paths):
        if not utf8(rel):
            report.problems.append((shown(rel), UNDECODABLE))
            continue
        parent, _, name = rel.rpartition("/")
        if name and name not in NEVER_WALKED:
            wanted.setdefault(parent, set()).add(name)
    for parent, names in wanted.items():
        rules = _chain(top, parent, chains)
        if rules is None:
            continue  # under an ignored or never-walked folder
        prefix = parent + "/" if parent else ""
        for entry in _entries(os.path.join(top, parent), names):  # one listing per folder
            rel = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not (rules and _ignored(rules, rel + "/")):
                        stack.append((entry.path, rel + "/", rules))
                elif entry.is_file(follow_symlinks=False):
                    if not (rules and _ignored(rules, rel)):
                        info = entry.stat(follow_symlinks=False)
                        found.append(WalkedFile(rel, FileStamp(info.st_size, info.st_mtime_ns,
                                                               info.st_ino)))
                elif entry.is_symlink():
                    _visit_link(entry, rel, top, rules, found, report)
            except OSError as exc:
                report.problems.append((rel, f"cannot stat: {exc.strerror}"))
    return _walk_from(top, stack, found, report)


def utf8(name: str) -> bool:
    """Whether a file name read from the OS is valid UTF-8 (Python maps the bytes of one
    that is not to lone surrogates, which neither SQLite nor JSON readers can take)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(path: str) -> str:
    """A path as printable text: bytes that are not UTF-8 as ``\\xff``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def within(path: str, folders: set[str]) -> bool:
    """Whether relative ``path`` is one of ``folders`` or inside one ("" is the whole tree)."""
    while True:
        if path in folders:
            return True
        if not path:
            return False
        path = path.rpartition("/")[0]


def _outermost(paths: set[str]) -> list[str]:
    """The paths not inside another of them (a folder's walk already covers its files)."""
    others = paths - {""}
    return [rel for rel in sorted(paths) if not within(rel.rpartition("/")[0], others)]


def _entries(directory: str, names: set[str]) -> list[os.DirEntry[str]]:
    """The entries of ``directory`` named in ``names`` (one listing, however many)."""
    try:
        with os.scandir(directory) as listing:
            return [e for e in listing if e.name in names]
    except OSError:
        return []


def _chain(top: str, folder: str, chains: dict[str, list[_Rules] | None]) -> list[_Rules] | None:
    """The ignore rules in force inside ``folder`` (relative), or None if it is ignored."""
    if folder in chains:
        return chains[folder]
    parent, _, name = folder.rpartition("/")
    above = _chain(top, parent, chains)
    rules: list[_Rules] | None = None
    if above is not None and name not in NEVER_WALKED and not (
            above and _ignored(above, folder + "/")):
        directory = os.path.join(top, folder)
        present = [n for n in IGNORE_FILES if os.path.isfile(os.path.join(directory, n))]
        rules = above + _load_rules(directory, folder + "/", present) if present else above
    chains[folder] = rules
    return rules


def _walk_from(top: str, stack: list[tuple[str, str, list[_Rules]]], found: list[WalkedFile],
               report: WalkReport) -> list[WalkedFile]:
    while stack:
        directory, prefix, inherited = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            report.problems.append((prefix.rstrip("/") or ".", f"cannot list: {exc.strerror}"))
            continue
        present = [e.name for e in entries if e.name in IGNORE_FILES]
        rules = inherited + _load_rules(directory, prefix, present) if present else inherited
        add = found.append
        for entry in entries:  # the hot loop of a no-op run: d_type first, one stat per file
            rel = prefix + entry.name
            if not (entry.name.isascii() or utf8(entry.name)):
                report.problems.append((shown(rel), UNDECODABLE))
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in NEVER_WALKED:
                        continue
                    if rules and _ignored(rules, rel + "/"):
                        report.pruned.append(rel)
                        continue
                    stack.append((entry.path, rel + "/", rules))
                elif entry.is_file(follow_symlinks=False):
                    if not (rules and _ignored(rules, rel)):
                        info = entry.stat(follow_symlinks=False)
                        add(WalkedFile(rel, FileStamp(info.st_size, info.st_mtime_ns,
                                                      info.st_ino)))
                elif entry.is_symlink():
                    _visit_link(entry, rel, top, rules, found, report)
                # anything else (fifos, sockets, devices) is not source
            except OSError as exc:
                report.problems.append((rel, f"cannot stat: {exc.strerror}"))
    return found


def _visit_link(entry: os.DirEntry[str], rel: str, top: str, rules: list[_Rules],
                found: list[WalkedFile], report: WalkReport) -> None:
    """A link to a regular file inside the root is indexed (with the target's content);
    links out of the root and links to directories are not followed, so loops cannot happen."""
    try:
        info = os.stat(entry.path)
    except OSError:
        return  # dangling
    if (not stat.S_ISREG(info.st_mode) or not _inside(entry.path, top)
            or (rules and _ignored(rules, rel))):
        report.links_skipped += 1
        return
    found.append(WalkedFile(rel, FileStamp(info.st_size, info.st_mtime_ns, info.st_ino)))


def _inside(path: str, top: str) -> bool:
    real = os.path.realpath(path)
    return real == top or real.startswith(top + os.sep)
