"""How a JavaScript / TypeScript pattern's text is made into a program the grammar takes.

semgrep's own JavaScript parser accepts pattern forms no program has; here they are spelled
or completed so that tree-sitter parses them, and the converter recognizes the made-up parts
(``PARTIAL``):

- an object literal ``{ a: $X }`` is read as an expression before a block, a lone field
  ``key: { ... }`` inside an object;
- partial constructs are completed: ``catch (e) {...}`` after a ``try {}``, ``case 1: ...``
  in a ``switch``, ``function f(...)``, ``class A`` and ``if (c)`` with a body, ``try {
  ... }`` with a made-up ``finally``, ``finally { ... }`` after a made-up ``try``, a method or
  decorated field inside a made-up class;
- ``for (...)``, ``${...}``, ``from $X``, ``attr=$X`` in JSX, ``...$X`` (a spread) and
  ``async foo`` get spellings the grammar takes; ``//`` comment lines are dropped; a ``...``
  line before a line opening with ``(``, ``[`` or a backquote ends its statement (no call).
"""

from __future__ import annotations

import re

from indexer.match.lang.base import DOTS, MV_PREFIX

PARTIAL = "_CLPARTIAL_"  # marks the made-up part of a partial pattern (``try { ... }``)
FIELD_START = re.compile(r"""^\s*(?:[\w$]+|"[^"]*"|'[^']*')\s*:(?!:)""")
FROM_METAVARIABLE = re.compile(r"\bfrom\s+(" + MV_PREFIX + r"\w+)")
TYPED_PARAMETER = re.compile(r"(\bfunction\b\s*[\w$]*\s*)\((?=\s*\$[A-Z_][A-Z0-9_]*\s*\??:)")
MEMBER_START = re.compile(r"@|(?:async|static|public|private|protected|readonly)\s")
METHOD_START = re.compile(r"(?:@.*\s+)?(?:(?:async|static|get|set|private|public|protected)\s+)*"
                          r"([\w$]+)\s*\(")
KEYWORDS = frozenset({"if", "for", "while", "switch", "catch", "function", "with", "return",
                      "typeof", "new", "await", "yield", "delete", "void", "super", "import"})
FOR_DOTS = re.compile(r"\bfor\s*\(\s*" + DOTS + r"\s*\)")
SPREAD_DOTS = re.compile(DOTS + r"(?=[\w$])")
ASYNC_FIELD = re.compile(r"\basync\s+([\w$]+)\s*$")
JSX_ATTRIBUTE_HOLE = re.compile(r"(\w)=(" + DOTS + "|" + MV_PREFIX + r"\w+)(?=[\s/>])")
DOTS_BEFORE_CALL = re.compile(r"(?m)^(\s*)\.\.\.[ \t]*\n(?=\s*[(\[`])")


def wrappers(text: str) -> list[tuple[str, str]]:
    """The (before, after) texts to try a pattern between, in order (see the module doc)."""
    stripped = text.lstrip()
    first: list[tuple[str, str]] = []
    if stripped.startswith("{"):
        first.append(("(", ")"))
    if FIELD_START.match(stripped) and not stripped.startswith(("case", "default")):
        first.append(("({", "})"))
    last: list[tuple[str, str]] = []
    method = METHOD_START.match(stripped)
    if method and method.group(1) not in KEYWORDS or MEMBER_START.match(stripped):
        last = [(f"class {PARTIAL} {{ ", " }"), (f"class {PARTIAL} {{ ", f" {{ {DOTS} }} }}")]
    return first + [
        ("", ""), ("try {} ", ""), (f"switch ({PARTIAL}) {{ ", " }"),
        ("", f" {{ {DOTS} }}"), ("", f" finally {{ {PARTIAL} }}"),
        (f"try {{ {PARTIAL} }} ", ""), *last]


def source(text: str) -> str:
    """The pattern's text without ``//`` comment lines (their quotes would confuse the
    compiler's string tracking), ``...`` lines before a parenthesis ended with ``;``."""
    text = "\n".join(line for line in text.split("\n")
                     if not line.lstrip().startswith("//")).strip()
    text = DOTS_BEFORE_CALL.sub(r"\1...;\n", text)
    # function f($X: T) declares a typed parameter: keep it from reading as a typed
    # metavariable (an empty comment hides it from the compiler's rewrite)
    return TYPED_PARAMETER.sub(r"\1(/**/", text)


def spellings(text: str) -> list[str]:
    """Another spelling of a pattern's placeholder text, when it needs one."""
    spelled = text.replace("${...}", "${" + DOTS + "}")
    spelled = FOR_DOTS.sub(f"for ({DOTS}; {DOTS}; {DOTS})", spelled)
    spelled = FROM_METAVARIABLE.sub(r'from "\1"', spelled)
    spelled = JSX_ATTRIBUTE_HOLE.sub(r"\1={\2}", spelled)
    spelled = SPREAD_DOTS.sub("...", spelled)  # ...$X is a spread, not an ellipsis
    spelled = ASYNC_FIELD.sub(r"\1", spelled)  # "async foo" names a member
    return [spelled] if spelled != text else []
