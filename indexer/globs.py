"""Which paths a scan looks at: semgrep's ``--include`` / ``--exclude`` and a rule's
``paths: include / exclude``, with the glob syntax of .gitignore (and of .semgrepignore).

A pattern without a slash matches a name at any depth (``*.py``, ``tests``); one with a slash
is anchored at the index root (``/src/*.py``, ``src/lib``); a pattern that matches a folder
matches everything below it. A path is excluded when any exclude pattern matches it, and,
when include patterns are given, kept only if one of them matches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class PathFilter:
    """Include and exclude globs over paths relative to the index root."""

    __slots__ = ("include", "exclude")

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.include = _spec(include)
        self.exclude = _spec(exclude)

    def __bool__(self) -> bool:
        """Whether it filters anything at all."""
        return self.include is not None or self.exclude is not None

    def allows(self, path: str) -> bool:
        if self.exclude is not None and self.exclude.match_file(path):
            return False
        return self.include is None or bool(self.include.match_file(path))


def _spec(patterns: Iterable[str]) -> Any:
    import pathspec

    lines = [p for p in patterns if p.strip()]
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
