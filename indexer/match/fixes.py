"""A rule's fix as semgrep renders it: the text that replaces one match.

``fix:`` is text with the match's metavariables put in (``$X`` and ``$...X`` become the code
they bound, longest names first; a name that bound nothing keeps its spelling, as in
semgrep); the lines after the first are indented to the match's column, so that a
multi-line fix lines up with the code it replaces. An ellipsis metavariable that bound no
code takes a comma beside it along (``f($A, $...REST)`` with nothing in REST gives
``f(x)``, as semgrep's printed fixes do). ``fix-regex:`` runs a regex substitution on the
matched text: ``count`` replacements from the left (all without it), the replacement
naming groups as ``\\1``, ``$1`` or ``${1}`` (``$$`` is a dollar sign, every other character is
itself).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from indexer.match.regexes import RegexError, bounded, compile_regex

# what a `$N`, `${N}` or `\N` group reference, or a `$$`, looks like in a replacement
_GROUP_REFERENCE = re.compile(r"\\(\d+)|\$(\d+)|\$\{(\d+)\}|\$\$")


class FixRegex(NamedTuple):
    regex: str
    replacement: str
    max_count: int | None  # `count`: replacements from the left; None: all of them


class FixSyntaxError(ValueError):
    """A rule's ``fix`` or ``fix-regex`` cannot be used (the loader names the rule)."""


def parse_fix(value: Any) -> str | None:
    """A rule's ``fix:`` value as text."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FixSyntaxError("`fix` must be text")
    return str(value)


def parse_fix_regex(value: Any) -> FixRegex | None:
    """A rule's ``fix-regex:`` mapping (``regex``, ``replacement``, optional ``count``)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FixSyntaxError("`fix-regex` must be a mapping with `regex` and `replacement`")
    regex, replacement, count = value.get("regex"), value.get("replacement"), value.get("count")
    if not isinstance(regex, str) or not regex:
        raise FixSyntaxError("`fix-regex` needs a `regex`")
    if isinstance(replacement, (int, float)) and not isinstance(replacement, bool):
        replacement = str(replacement)
    if not isinstance(replacement, str):
        raise FixSyntaxError("`fix-regex` needs a `replacement` (text)")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or count < 0):
        raise FixSyntaxError("the `count` of `fix-regex` must be a whole number")
    try:
        compile_regex(regex)
    except RegexError as exc:
        raise FixSyntaxError(f"invalid regex in fix-regex: {exc}") from None
    return FixRegex(regex, replacement, count)


def render(fix: str | None, fix_regex: FixRegex | None, source: bytes, start: int, end: int,
           bindings: dict[str, str]) -> str | None:
    """The text that replaces ``source[start:end]`` (a match whose metavariables bound
    ``bindings``: name -> the code), or None when the rule has no fix. ``fix`` wins over
    ``fix_regex``, as in semgrep. Raises RegexTimeout when the regex runs too long."""
    if fix is not None:
        line_start = source.rfind(b"\n", 0, start) + 1
        return _aligned(interpolate(fix, bindings), start - line_start)
    if fix_regex is not None:
        matched = source[start:end].decode("utf-8", "replace")
        return substitute(fix_regex, matched)
    return None


def interpolate(fix: str, bindings: dict[str, str]) -> str:
    """``fix`` with each bound metavariable replaced by its code, in one pass (code that
    itself looks like a metavariable is left alone), longest names first."""
    names = sorted((n for n in bindings if n.startswith("$")), key=len, reverse=True)
    if not names:
        return fix
    for name in names:
        if name.startswith("$...") and not bindings[name]:
            fix = _drop_comma_beside(fix, name)
    spelled = re.compile(r"value\((" + "|".join(map(re.escape, names)) + r")\)|" +
                         "|".join(map(re.escape, names)))
    return spelled.sub(lambda m: bindings[m.group(1) or m.group(0)], fix)


def _drop_comma_beside(fix: str, name: str) -> str:
    """Without the comma that separates an empty ``$...X`` from its neighbour: the one
    before it, else the one after it."""
    escaped = re.escape(name) + r"(?![A-Za-z0-9_])"
    before = re.compile(r",[ \t]*" + escaped)
    if before.search(fix):
        return before.sub(name, fix)
    return re.sub(escaped + r"[ \t]*,[ \t]*", name, fix)


def _aligned(text: str, column: int) -> str:
    """The lines after the first indented by ``column`` spaces (the first starts where the
    match does)."""
    if column <= 0 or "\n" not in text:
        return text
    return ("\n" + " " * column).join(text.split("\n"))


def substitute(fix_regex: FixRegex, text: str) -> str:
    """``text`` with the regex's matches replaced, ``count`` of them from the left."""
    pattern = compile_regex(fix_regex.regex)
    template = fix_regex.replacement

    def replacement(found: Any) -> str:
        return _GROUP_REFERENCE.sub(lambda ref: _group(found, ref), template)

    count = fix_regex.max_count
    if count == 0:
        return text
    return str(bounded(pattern.sub, replacement, text, count or 0))


def _group(found: Any, reference: re.Match[str]) -> str:
    if reference.group(0) == "$$":
        return "$"
    number = int(next(g for g in reference.groups() if g is not None))
    try:
        return found.group(number) or ""
    except IndexError:  # a group the regex does not have stays as written
        return reference.group(0)
