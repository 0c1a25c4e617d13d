"""``metavariable-analysis``: is a string random-looking (a secret), is a regex prone to
catastrophic backtracking."""

from __future__ import annotations

import math
import re
from collections import Counter

ENTROPY_BITS_PER_CHAR = 3.5  # above this, for strings of 16 characters or more
MIN_LENGTH = 16
# a group that repeats and is itself repeated, or repeats an alternation: (a+)+, (a|a)*
NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)[+*{]|"
                               r"\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)[+*]")


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def high_entropy(text: str) -> bool:
    return len(text) >= MIN_LENGTH and shannon_entropy(text) >= ENTROPY_BITS_PER_CHAR


def redos_prone(regex_text: str) -> bool:
    return NESTED_QUANTIFIER.search(regex_text) is not None
