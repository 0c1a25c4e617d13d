"""``metavariable-analysis``: is a string random-looking (a secret), is a regex prone to
catastrophic backtracking."""

from __future__ import annotations

import math
import re
from collections import Counter

ENTROPY_BITS_PER_CHAR = 3.5  # above this, for strings of 16 characters or more
MIN_LENGTH = 16
BOUNDED = re.compile(r"\{(\d*)(,?)(\d*)\}")


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def high_entropy(text: str) -> bool:
    return len(text) >= MIN_LENGTH and shannon_entropy(text) >= ENTROPY_BITS_PER_CHAR


def redos_prone(regex: str) -> bool:
    """A group that holds an unbounded repetition and is itself repeated without bound,
    not possessively: ``(a+)+``, ``((x )+)*``, ``(a|b+)*`` (nested quantifiers)."""
    groups = [False]  # per open group: whether it holds an unbounded repetition
    last_group: bool | None = None  # the group just closed held one
    index, size = 0, len(regex)
    while index < size:
        char = regex[index]
        if char == "\\":
            index += 2
            last_group = None
            continue
        if char == "[":
            index = _class_end(regex, index)
            last_group = None
            continue
        if char == "(":
            groups.append(False)
            index += 1
            last_group = None
            continue
        if char == ")" and len(groups) > 1:
            inner = groups.pop()
            groups[-1] = groups[-1] or inner
            last_group = inner
            index += 1
            continue
        unbounded, length = _quantifier(regex, index)
        if length:
            possessive = regex[index + length:index + length + 1] == "+"
            if unbounded and last_group and not possessive:
                return True
            if unbounded:
                groups[-1] = True
            index += length + (1 if possessive else 0)
            last_group = None
            continue
        last_group = None
        index += 1
    return False


def _quantifier(regex: str, index: int) -> tuple[bool, int]:
    """(unbounded, length) of a quantifier at ``index`` ((False, 0) when there is none)."""
    char = regex[index]
    if char in "*+":
        return True, 1
    if char == "?":
        return False, 1
    if char == "{":
        found = BOUNDED.match(regex, index)
        if found:
            return bool(found.group(2)) and not found.group(3), found.end() - index
    return False, 0


def _class_end(regex: str, index: int) -> int:
    """The index just past a character class that starts at ``index``."""
    index += 1
    if index < len(regex) and regex[index] == "^":
        index += 1
    if index < len(regex) and regex[index] == "]":
        index += 1
    while index < len(regex) and regex[index] != "]":
        index += 2 if regex[index] == "\\" else 1
    return index + 1
