"""Regular expressions as semgrep rules write them (PCRE: ``(?<name>...)`` groups, inline
flags), run with a time bound so that one catastrophic regex cannot stall a scan."""

from __future__ import annotations

import functools
from typing import Any

REGEX_TIMEOUT_S = 5.0


class RegexError(ValueError):
    """A rule's regex does not compile."""


class RegexTimeout(RuntimeError):
    """A regex ran past its time bound on some text."""


@functools.lru_cache(maxsize=2048)
def compile_regex(text: str, flags: int = 0) -> Any:
    """The compiled regex (the ``regex`` package reads PCRE's named groups)."""
    import regex

    try:
        return regex.compile(text, flags | regex.VERSION0)
    except (regex.error, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise RegexError(str(exc)) from None


def bounded(method: Any, *args: Any) -> Any:
    """``method(*args)`` of a compiled regex, stopped after REGEX_TIMEOUT_S."""
    try:
        return method(*args, timeout=REGEX_TIMEOUT_S)
    except TimeoutError as exc:
        raise RegexTimeout(f"regex ran longer than {REGEX_TIMEOUT_S:g} s") from exc


def match(text: str, subject: str) -> Any:
    """``re.match`` semantics (anchored at the start), bounded."""
    return bounded(compile_regex(text).match, subject)


def search(text: str, subject: str, flags: int = 0) -> Any:
    return bounded(compile_regex(text, flags).search, subject)


def finditer(text: str, subject: str) -> list[Any]:
    import regex

    pattern = compile_regex(text, regex.MULTILINE)
    try:
        return list(pattern.finditer(subject, timeout=REGEX_TIMEOUT_S))
    except TimeoutError as exc:
        raise RegexTimeout(f"regex ran longer than {REGEX_TIMEOUT_S:g} s") from exc
