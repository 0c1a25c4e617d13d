"""semgrep-format rule files: loaded into formulas, with errors that name the rule and file.

Supported: ``pattern``, ``patterns`` (with ``pattern``, ``pattern-not``, ``pattern-inside``,
``pattern-not-inside``, ``pattern-either``, ``metavariable-regex`` and nested ``patterns``)
and ``pattern-either`` at the top level. A rule using anything else is reported by id and
skipped; the other rules still run.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

SEVERITIES = ("ERROR", "WARNING", "INFO")
LANGUAGE_ALIASES = {"py": "python", "js": "javascript", "ts": "typescript", "golang": "go",
                    "c#": "c_sharp", "csharp": "c_sharp", "sh": "bash", "rb": "ruby",
                    "kt": "kotlin", "c++": "cpp", "jsx": "javascript"}
# a JavaScript rule also runs on TypeScript files, as in semgrep
LANGUAGE_FAMILY = {"javascript": ("javascript", "typescript", "tsx"),
                   "typescript": ("typescript", "tsx")}


class Formula(NamedTuple):
    """One node of a rule's formula: ``op`` is pattern | either | all | not | inside |
    not-inside | regex; ``pattern`` is the code of a leaf; ``children`` the operands."""

    op: str
    pattern: str = ""
    children: tuple[Formula, ...] = ()
    metavariable: str = ""
    regex: str = ""


class Rule(NamedTuple):
    id: str
    languages: tuple[str, ...]
    message: str
    severity: str
    formula: Formula
    hash: str  # of everything that decides its matches: a changed rule misses the cache
    source: str  # the file it came from


class RuleError(NamedTuple):
    """A rule, or a rule file, that cannot run: reported, never fatal to the other rules."""

    source: str
    rule_id: str | None
    message: str


class RuleSyntaxError(ValueError):
    pass


def rule_files(config: Path) -> list[Path]:
    """A rule file, or every .yml/.yaml under a directory (sorted)."""
    if config.is_dir():
        return sorted(p for p in config.rglob("*") if p.suffix in (".yml", ".yaml") and
                      p.is_file())
    return [config]


def load_rules(configs: list[Path]) -> tuple[list[Rule], list[RuleError]]:
    rules: list[Rule] = []
    errors: list[RuleError] = []
    for config in configs:
        if not config.exists():
            errors.append(RuleError(str(config), None, "no such rule file or directory"))
            continue
        for path in rule_files(config):
            found, problems = load_rule_file(path)
            rules += found
            errors += problems
    return rules, errors


_LOADED: dict[str, tuple[tuple[int, int], tuple[list[Rule], list[RuleError]]]] = {}


def load_rule_file(path: Path) -> tuple[list[Rule], list[RuleError]]:
    """A rule file's rules and errors; re-read only when its size or mtime changes (a daemon
    serves the same rules over and over)."""
    try:
        info = path.stat()
    except OSError:
        return _read_rule_file(path)
    stamp = (info.st_size, info.st_mtime_ns)
    cached = _LOADED.get(str(path))
    if cached is None or cached[0] != stamp:
        cached = stamp, _read_rule_file(path)
        _LOADED[str(path)] = cached
    return list(cached[1][0]), list(cached[1][1])


def _read_rule_file(path: Path) -> tuple[list[Rule], list[RuleError]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [RuleError(str(path), None, f"invalid YAML{where}: {problem}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [RuleError(str(path), None, f"cannot read: {exc}")]
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        return [], [RuleError(str(path), None, "a rule file needs a top-level `rules:` list")]
    rules, errors = [], []
    for index, raw in enumerate(document["rules"]):
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            rules.append(parse_rule(raw, str(path)))
        except RuleSyntaxError as exc:
            errors.append(RuleError(str(path), rule_id or f"#{index + 1}", str(exc)))
    return rules, errors


def parse_rule(raw: Any, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleSyntaxError("a rule must be a mapping")
    for key in ("id", "message", "languages"):
        if key not in raw:
            raise RuleSyntaxError(f"missing `{key}`")
    languages = raw["languages"]
    if not isinstance(languages, list) or not languages:
        raise RuleSyntaxError("`languages` must be a non-empty list")
    names = tuple(LANGUAGE_ALIASES.get(str(lang).lower(), str(lang).lower()) for lang in languages)
    severity = str(raw.get("severity", "WARNING")).upper()
    if severity not in SEVERITIES:
        raise RuleSyntaxError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    tops = [key for key in ("pattern", "patterns", "pattern-either", "pattern-regex")
            if key in raw]
    unsupported = [key for key in raw if key.startswith("pattern") and key not in tops] + [
        key for key in ("pattern-regex", "pattern-sinks", "pattern-sources", "mode", "join")
        if key in raw]
    if unsupported:
        raise RuleSyntaxError(f"unsupported operator {unsupported[0]!r}")
    if len(tops) != 1:
        raise RuleSyntaxError("needs exactly one of `pattern`, `patterns`, `pattern-either`")
    formula = _formula(tops[0], raw[tops[0]])
    shape = json.dumps([names, raw["message"], severity, formula], sort_keys=True)
    return Rule(str(raw["id"]), names, str(raw["message"]), severity, formula,
                hashlib.sha256(shape.encode()).hexdigest()[:32], source)


def _formula(key: str, value: Any) -> Formula:
    if key in ("pattern", "pattern-not", "pattern-inside", "pattern-not-inside"):
        if not isinstance(value, str) or not value.strip():
            raise RuleSyntaxError(f"`{key}` must be a non-empty string of code")
        leaf = Formula("pattern", pattern=value)
        wrap = {"pattern": None, "pattern-not": "not", "pattern-inside": "inside",
                "pattern-not-inside": "not-inside"}[key]
        return Formula(wrap, children=(leaf,)) if wrap else leaf
    if key == "pattern-either":
        return Formula("either", children=tuple(_items(key, value)))
    if key == "patterns":
        children = tuple(_items(key, value))
        if not any(c.op in ("pattern", "either", "all", "inside") for c in children):
            raise RuleSyntaxError("`patterns` needs at least one positive pattern")
        return Formula("all", children=children)
    if key == "metavariable-regex":
        if not isinstance(value, dict) or "metavariable" not in value or "regex" not in value:
            raise RuleSyntaxError("`metavariable-regex` needs `metavariable` and `regex`")
        try:
            re.compile(str(value["regex"]))
        except re.error as exc:
            raise RuleSyntaxError(f"invalid regex in metavariable-regex: {exc}") from None
        return Formula("regex", metavariable=str(value["metavariable"]), regex=str(value["regex"]))
    raise RuleSyntaxError(f"unsupported operator {key!r}")


def _items(key: str, value: Any) -> list[Formula]:
    if not isinstance(value, list) or not value:
        raise RuleSyntaxError(f"`{key}` must be a non-empty list")
    found = []
    for item in value:
        if isinstance(item, str) and key == "pattern-either":
            found.append(Formula("pattern", pattern=item))
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise RuleSyntaxError(f"each item of `{key}` must be a mapping with one operator")
        ((inner, operand),) = item.items()
        found.append(_formula(inner, operand))
    return found


def interpolate(message: str, bindings: dict[str, str]) -> str:
    """Replace ``$X`` in a message with what X bound to (longest names first)."""
    for name in sorted(bindings, key=len, reverse=True):
        message = message.replace(name, bindings[name])
    return message


def target_languages(rule: Rule) -> set[str]:
    found: set[str] = set()
    for language in rule.languages:
        found.update(LANGUAGE_FAMILY.get(language, (language,)))
    return found
