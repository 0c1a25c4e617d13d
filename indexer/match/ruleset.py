"""The rules a scan runs: loaded from the rule files, every pattern compiled once, and the
ones that cannot run set apart as errors (by rule id, with the reason)."""

from __future__ import annotations

from pathlib import Path

from indexer import languages
from indexer.match.formula import pattern_leaves
from indexer.match.pattern import PatternError, compile_pattern
from indexer.match.rules import Rule, RuleError, load_rules


def load_ruleset(configs: list[Path]) -> tuple[list[Rule], list[RuleError]]:
    """The runnable rules of the rule files and folders, and the errors of the others."""
    rules, errors = load_rules(configs)
    good, bad = runnable(rules)
    return good, errors + bad


def runnable(rules: list[Rule]) -> tuple[list[Rule], list[RuleError]]:
    """Rules whose languages are known and whose patterns all compile; the rest as errors."""
    known = set(languages.known_languages())
    good, bad = [], []
    for rule in rules:
        unknown = [lang for lang in rule.languages if lang not in known]
        if unknown:
            bad.append(RuleError(rule.source, rule.id, f"unsupported language {unknown[0]!r}"))
            continue
        problem = _compile_problem(rule, known)
        if problem:
            bad.append(RuleError(rule.source, rule.id, problem))
            continue
        good.append(rule)
    return good, bad


def _compile_problem(rule: Rule, known: set[str]) -> str:
    try:
        for source, language in pattern_leaves(rule.formula):
            if language is not None and language not in known:
                return f"unsupported language {language!r} in metavariable-pattern"
            compile_pattern(source, language or rule.languages[0])
    except (PatternError, languages.GrammarUnavailable) as exc:
        return str(exc)
    except RecursionError:
        return "a pattern is nested too deep"
    return ""


def pattern_words(rule: Rule, source: str) -> frozenset[str] | None:
    """The words every match of one of a rule's patterns has in its file (None: unknown)."""
    try:
        return compile_pattern(source, rule.languages[0]).tokens
    except (PatternError, languages.GrammarUnavailable):
        return None
