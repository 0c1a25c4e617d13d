"""semgrep-format rule files: loaded into typed formulas, with errors that name the rule and
file.

Both syntaxes are read: the classic operators (``pattern``, ``patterns``, ``pattern-either``,
``pattern-not``, ``pattern-inside``, ``pattern-not-inside``, ``pattern-regex``,
``pattern-not-regex``, ``metavariable-regex``, ``metavariable-pattern``,
``metavariable-comparison``, ``metavariable-type``, ``metavariable-analysis``,
``focus-metavariable``) and the newer ``match:`` with ``all``/``any``/``not``/``inside``/
``anywhere``/``where``. A rule using something else (taint mode, ``pattern-where-python``,
extract or join mode) is reported by id with the reason and skipped; the other rules run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from indexer.match.fixes import FixRegex, FixSyntaxError, parse_fix, parse_fix_regex
from indexer.match.formula import (
    Analysis,
    And,
    Anywhere,
    Comparison,
    Focus,
    Formula,
    Inside,
    MetavarPattern,
    MetavarRegex,
    MetavarType,
    Not,
    Or,
    PatternLeaf,
    RegexLeaf,
)
from indexer.match.regexes import RegexError, compile_regex

SEVERITIES = ("ERROR", "WARNING", "INFO", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INVENTORY",
              "EXPERIMENT")
LANGUAGE_ALIASES = {"py": "python", "js": "javascript", "ts": "typescript", "golang": "go",
                    "c#": "c_sharp", "csharp": "c_sharp", "sh": "bash", "rb": "ruby",
                    "kt": "kotlin", "c++": "cpp", "jsx": "javascript", "python3": "python",
                    "python2": "python", "hcl": "hcl", "terraform": "hcl", "tf": "hcl"}
# a JavaScript rule also runs on TypeScript files, as in semgrep
LANGUAGE_FAMILY = {"javascript": ("javascript", "typescript", "tsx"),
                   "typescript": ("typescript", "tsx")}
UNSUPPORTED_KEYS = {
    "pattern-where-python": "`pattern-where-python` runs arbitrary Python and is not supported",
    "pattern-sources": "taint mode (`pattern-sources`) is not supported yet",
    "pattern-sinks": "taint mode (`pattern-sinks`) is not supported yet",
    "join": "join mode is not supported",
    "extract": "extract mode is not supported",
}


MAX_RULE_FILE_BYTES = 16 << 20


class Rule(NamedTuple):
    id: str
    languages: tuple[str, ...]
    message: str
    severity: str
    formula: Formula
    options: dict[str, Any]
    hash: str  # of everything that decides its matches: a changed rule misses the cache
    source: str  # the file it came from
    fix: str | None = None  # semgrep's `fix:` (see indexer/match/fixes.py)
    fix_regex: FixRegex | None = None  # semgrep's `fix-regex:`
    paths: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # `paths:` include, exclude


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
    """Only a regular file under MAX_RULE_FILE_BYTES is read (a FIFO would wait for ever,
    /dev/zero would fill the memory)."""
    import stat

    try:
        with open(path, "rb", opener=_nonblocking) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return [], [RuleError(str(path), None, "not a regular file: rules are read "
                                      "from .yaml files only")]
            if info.st_size > MAX_RULE_FILE_BYTES:
                return [], [RuleError(str(path), None, f"too large to be a rule file "
                                      f"({info.st_size} bytes, at most {MAX_RULE_FILE_BYTES})")]
            text = handle.read(MAX_RULE_FILE_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [RuleError(str(path), None, f"cannot read: {exc}")]
    return parse_rules_text(text, str(path))


def _nonblocking(path: str, flags: int) -> int:
    """Open without waiting: opening a FIFO for reading blocks until a writer comes."""
    return os.open(path, flags | os.O_NONBLOCK)


def parse_rules_text(text: str, source: str) -> tuple[list[Rule], list[RuleError]]:
    """The rules of a YAML document (a rule file's text, or inline rules)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return [], [RuleError(source, None, f"invalid YAML{where}: {problem}")]
    except RecursionError:
        return [], [RuleError(source, None, "invalid YAML: nested too deep")]
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        return [], [RuleError(source, None, "a rule file needs a top-level `rules:` list")]
    rules, errors = [], []
    for index, raw in enumerate(document["rules"]):
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            rules.append(parse_rule(raw, source))
        except RuleSyntaxError as exc:
            errors.append(RuleError(source, str(rule_id or f"#{index + 1}"), str(exc)))
        except RecursionError:
            errors.append(RuleError(source, str(rule_id or f"#{index + 1}"),
                                    "the rule is nested too deep"))
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
    names = tuple(LANGUAGE_ALIASES.get(str(lang).lower(), str(lang).lower())
                  for lang in languages)
    severity = str(raw.get("severity", "WARNING")).upper()
    if severity not in SEVERITIES:
        raise RuleSyntaxError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    mode = str(raw.get("mode", "search"))
    if mode != "search":
        raise RuleSyntaxError(UNSUPPORTED_KEYS.get(mode, f"{mode} mode is not supported")
                              if mode != "taint" else "taint mode is not supported yet")
    for key, reason in UNSUPPORTED_KEYS.items():
        if key in raw:
            raise RuleSyntaxError(reason)
    formula = top_formula(raw)
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise RuleSyntaxError("`options` must be a mapping")
    try:
        fix, fix_regex = parse_fix(raw.get("fix")), parse_fix_regex(raw.get("fix-regex"))
    except FixSyntaxError as exc:
        raise RuleSyntaxError(str(exc)) from None
    shape = json.dumps([names, raw["message"], severity, repr(formula), options, fix,
                        fix_regex], sort_keys=True, default=str)
    return Rule(str(raw["id"]), names, str(raw["message"]), severity, formula, options,
                hashlib.sha256(shape.encode()).hexdigest()[:32], source, fix, fix_regex,
                _paths(raw.get("paths")))


def _paths(raw: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A rule's ``paths:`` (``include:`` and ``exclude:`` glob lists; a string is one)."""
    if raw is None:
        return (), ()
    if not isinstance(raw, dict) or set(raw) - {"include", "exclude"}:
        raise RuleSyntaxError("`paths` must be a mapping of `include` and/or `exclude` lists")
    lists = []
    for key in ("include", "exclude"):
        value = raw.get(key) or []
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleSyntaxError(f"`paths.{key}` must be a list of globs")
        lists.append(tuple(value))
    return lists[0], lists[1]


TOP_KEYS = ("pattern", "patterns", "pattern-either", "pattern-regex", "match")


def top_formula(raw: dict[str, Any]) -> Formula:
    tops = [key for key in TOP_KEYS if key in raw]
    if len(tops) != 1:
        raise RuleSyntaxError("needs exactly one of `pattern`, `patterns`, `pattern-either`, "
                              "`pattern-regex`, `match`")
    key = tops[0]
    if key == "match":
        formula = new_formula(raw["match"])
    else:
        formula = classic(key, raw[key])
    check_positive(formula)
    return formula


def classic(key: str, value: Any) -> Formula:
    """One classic operator (``key: value``) as a formula."""
    if key in ("pattern", "pattern-not", "pattern-inside", "pattern-not-inside",
               "semgrep-internal-pattern-anywhere"):
        leaf = _operand(key, value)
        return {"pattern": leaf, "pattern-not": Not(leaf), "pattern-inside": Inside(leaf),
                "pattern-not-inside": Not(Inside(leaf)),
                "semgrep-internal-pattern-anywhere": Anywhere(leaf)}[key]
    if key in ("pattern-regex", "pattern-not-regex"):
        leaf = RegexLeaf(_regex(key, value))
        return leaf if key == "pattern-regex" else Not(leaf)
    if key == "pattern-either":
        return Or(tuple(_items(key, value)))
    if key == "patterns":
        return _conjunction(_items(key, value))
    if key in CONDITIONS:
        return CONDITIONS[key](value)
    raise RuleSyntaxError(f"unsupported operator {key!r}")


def _operand(key: str, value: Any) -> Formula:
    """What ``pattern``-like operators take: code, or a nested operator
    (``pattern-inside: {patterns: [...]}``)."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise RuleSyntaxError(f"`{key}` takes code or a mapping with one operator")
        ((inner, operand),) = value.items()
        return classic(inner, operand)
    if key == "pattern":
        return PatternLeaf(_code(key, value))
    return PatternLeaf(_code(key, value))


def _conjunction(items: list[Formula]) -> And:
    return And(tuple(items))


def check_positive(formula: Formula) -> None:
    """A top-level ``patterns`` needs a positive operand (one nested in a
    metavariable-pattern has the metavariable's code as its context)."""
    if isinstance(formula, And) and not any(_positive(i) for i in formula.items):
        raise RuleSyntaxError("`patterns` needs at least one positive pattern")
    if isinstance(formula, Or):
        for item in formula.items:
            check_positive(item)


def _positive(item: Formula) -> bool:
    return isinstance(item, (PatternLeaf, RegexLeaf, Or, And, Inside, Anywhere))


def _items(key: str, value: Any) -> list[Formula]:
    if not isinstance(value, list) or not value:
        raise RuleSyntaxError(f"`{key}` must be a non-empty list")
    found = []
    for item in value:
        if isinstance(item, str) and key == "pattern-either":
            found.append(PatternLeaf(_code(key, item)))
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise RuleSyntaxError(f"each item of `{key}` must be a mapping with one operator")
        ((inner, operand),) = item.items()
        found.append(classic(inner, operand))
    return found


def _code(key: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RuleSyntaxError(f"`{key}` must be a non-empty string of code")
    return value


def _regex(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RuleSyntaxError(f"`{key}` must be a regular expression")
    try:
        compile_regex(value)
    except RegexError as exc:
        raise RuleSyntaxError(f"invalid regex in {key}: {exc}") from None
    return value


def _metavariable(key: str, value: dict[str, Any]) -> str:
    name = value.get("metavariable")
    if not isinstance(name, str) or not name.startswith("$"):
        raise RuleSyntaxError(f"`{key}` needs a `metavariable` such as $X")
    return name


def _mapping(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleSyntaxError(f"`{key}` must be a mapping")
    return value


def metavariable_regex(value: Any) -> Formula:
    value = _mapping("metavariable-regex", value)
    name = _metavariable("metavariable-regex", value)
    regex = _regex("metavariable-regex", value.get("regex"))
    return MetavarRegex(name, regex, bool(value.get("constant-propagation", False)))


def metavariable_pattern(value: Any) -> Formula:
    value = _mapping("metavariable-pattern", value)
    name = _metavariable("metavariable-pattern", value)
    inner_keys = [k for k in ("pattern", "patterns", "pattern-either", "pattern-regex")
                  if k in value]
    if len(inner_keys) != 1:
        raise RuleSyntaxError("`metavariable-pattern` needs one of `pattern`, `patterns`, "
                              "`pattern-either`, `pattern-regex`")
    language = value.get("language")
    if language is not None:
        language = LANGUAGE_ALIASES.get(str(language).lower(), str(language).lower())
    key = inner_keys[0]
    if key == "patterns":  # only negations is fine: they filter the metavariable's range
        return MetavarPattern(name, language, And(tuple(_items(key, value[key]))))
    return MetavarPattern(name, language, classic(key, value[key]))


def metavariable_comparison(value: Any) -> Formula:
    value = _mapping("metavariable-comparison", value)
    comparison = value.get("comparison")
    if not isinstance(comparison, str) or not comparison.strip():
        raise RuleSyntaxError("`metavariable-comparison` needs a `comparison`")
    from indexer.match.compare import ComparisonError, parse_comparison

    try:
        parse_comparison(comparison)
    except ComparisonError as exc:
        raise RuleSyntaxError(f"invalid comparison: {exc}") from None
    base = value.get("base")
    return Comparison(value.get("metavariable"), comparison, bool(value.get("strip", False)),
                      int(base) if base is not None else None)


def metavariable_type(value: Any) -> Formula:
    value = _mapping("metavariable-type", value)
    name = _metavariable("metavariable-type", value)
    types = value.get("types", [value["type"]] if "type" in value else None)
    if not isinstance(types, list) or not types:
        raise RuleSyntaxError("`metavariable-type` needs `type` or `types`")
    language = value.get("language")
    return MetavarType(name, tuple(str(t) for t in types), language)


def metavariable_analysis(value: Any) -> Formula:
    value = _mapping("metavariable-analysis", value)
    name = _metavariable("metavariable-analysis", value)
    analyzer = str(value.get("analyzer", ""))
    if analyzer not in ("entropy", "redos"):
        raise RuleSyntaxError(f"unsupported metavariable-analysis analyzer {analyzer!r}")
    return Analysis(name, analyzer)


def focus_metavariable(value: Any) -> Formula:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and n.startswith("$") for n in names):
        raise RuleSyntaxError("`focus-metavariable` takes a metavariable or a list of them")
    return Focus(tuple(names))


CONDITIONS = {"metavariable-regex": metavariable_regex,
              "metavariable-pattern": metavariable_pattern,
              "metavariable-comparison": metavariable_comparison,
              "metavariable-type": metavariable_type,
              "metavariable-analysis": metavariable_analysis,
              "focus-metavariable": focus_metavariable}


def new_formula(value: Any) -> Formula:
    """The ``match:`` syntax."""
    if isinstance(value, str):
        return PatternLeaf(_code("match", value))
    if not isinstance(value, dict):
        raise RuleSyntaxError("a `match:` formula must be a pattern or a mapping")
    where = value.get("where")
    keys = [k for k in value if k not in ("where", "as", "fix")]
    if len(keys) != 1:
        raise RuleSyntaxError("a `match:` formula needs exactly one operator")
    key, operand = keys[0], value[keys[0]]
    formula: Formula
    if key == "pattern":
        formula = PatternLeaf(_code(key, operand))
    elif key == "regex":
        formula = RegexLeaf(_regex(key, operand))
    elif key == "all":
        formula = And(tuple(new_formula(x) for x in _list(key, operand)))
    elif key == "any":
        formula = Or(tuple(new_formula(x) for x in _list(key, operand)))
    elif key == "not":
        formula = Not(new_formula(operand))
    elif key == "inside":
        formula = Inside(new_formula(operand))
    elif key == "anywhere":
        formula = Anywhere(new_formula(operand))
    else:
        raise RuleSyntaxError(f"unsupported `match:` operator {key!r}")
    alias = value.get("as")
    if alias is not None:
        formula = formula._replace(alias=str(alias)) if isinstance(formula, PatternLeaf) \
            else formula
    if where is None:
        return formula
    conditions = tuple(_where(w) for w in _list("where", where))
    items = formula.items if isinstance(formula, And) else (formula,)
    return And(tuple(items) + conditions)


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise RuleSyntaxError(f"`{key}` must be a non-empty list")
    return value


def _where(value: Any) -> Formula:
    if not isinstance(value, dict):
        raise RuleSyntaxError("each `where` condition must be a mapping")
    if "focus" in value:
        return focus_metavariable(value["focus"])
    if "comparison" in value:
        return metavariable_comparison(value)
    if "regex" in value:
        return metavariable_regex(value)
    if "type" in value or "types" in value:
        return metavariable_type(value)
    if "analyzer" in value:
        return metavariable_analysis(value)
    if any(k in value for k in ("pattern", "patterns", "pattern-either", "all", "any")):
        name = _metavariable("where", value)
        inner = {k: v for k, v in value.items() if k not in ("metavariable", "language")}
        formula = new_formula(inner) if len(inner) == 1 else new_formula(
            {"all": [inner]})
        language = value.get("language")
        return MetavarPattern(name, language, formula)
    raise RuleSyntaxError("unsupported `where` condition")


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
