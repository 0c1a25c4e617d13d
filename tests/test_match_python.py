"""The semantic matcher on Python: each equivalence semgrep applies, on small examples of
our own (real parses, real matching; no index needed)."""

from __future__ import annotations

import pytest

from indexer.match.evaluate import Evaluation, rule_matches
from indexer.match.pattern import PatternError, compile_pattern
from indexer.match.rules import parse_rules_text
from indexer.match.search import Target, find
from indexer.match.snippet import parse_snippet


def lines(pattern: str, code: str) -> list[int]:
    """The 1-based lines where the pattern's matches start."""
    target = Target(parse_snippet(code, "python"))
    found = find(compile_pattern(pattern, "python"), target)
    return sorted({code[:m.start].count("\n") + 1 for m in found})


def rule_lines(rule_yaml: str, code: str) -> list[int]:
    rules, errors = parse_rules_text(rule_yaml, "test.yaml")
    assert not errors and len(rules) == 1
    target = Target(parse_snippet(code, "python"))
    run = Evaluation(target, rules[0].languages, rules[0].options)
    return sorted({code[:m.start].count("\n") + 1 for m in rule_matches(rules[0].formula, run)})


def test_imports_resolve_aliases_of_modules_and_names() -> None:
    code = ("import shlex as sh\nfrom shlex import quote as q\nfrom os import path\n"
            "sh.quote(a)\nq(b)\nquote(c)\nshlex.quote(d)\nsh.split(e)\n")
    assert lines("shlex.quote(...)", code) == [4, 5, 7]


def test_keyword_arguments_in_any_position() -> None:
    code = "run(a, shell=True)\nrun(shell=True, cwd=d)\nrun(a, shell=False)\nrun(a)\n"
    assert lines("run(..., shell=True, ...)", code) == [1, 2]
    assert lines("run($X, ...)", code) == [1, 3, 4]


def test_parentheses_quotes_and_trailing_commas_do_not_matter() -> None:
    code = "f((x), 'k')\nf(x, \"k\",)\nf(x, 'j')\n"
    assert lines('f(x, "k")', code) == [1, 2]


def test_metavariable_equality_is_structural_and_scoped() -> None:
    code = "if a + b == a+b:\n    pass\nif a == c:\n    pass\n"
    assert lines("$X == $X", code) == [1]
    scoped = ("limit = 3\n\ndef g():\n    limit = 4\n    check(limit)\n\ncheck(limit)\n")
    # the module's `limit` is another variable than the function's
    assert lines("$V = 3\n...\ncheck($V)", scoped) == [1]


def test_constants_flow_through_branches_but_not_maybe_unassigned() -> None:
    code = ("def f(c):\n    s = 'a'\n    if c:\n        t = 'x'\n    else:\n        t = 'y'\n"
            "    sink(s)\n    sink(t)\n\ndef g(c):\n    if c:\n        u = 'z'\n    sink(u)\n")
    assert lines('sink("...")', code) == [7, 8]
    assert lines('sink("a")', code) == [7]


def test_try_sends_values_before_raising_statements_to_handlers() -> None:
    code = ("def f():\n    n = 1\n    try:\n        risky()\n    except E:\n        n = 2\n"
            "    use(n)\n\ndef g():\n    n = 1\n    try:\n        pass\n    except E:\n"
            "        n = 2\n    use(n)\n")
    assert lines("use(1)", code) == [15]


def test_string_concatenation_and_fstrings_fold_to_constants() -> None:
    code = "eval('a' + 'b')\neval(f'lit')\neval(f'x{y}')\neval(n * 'z')\n"
    assert lines('eval("ab")', code) == [1]
    assert lines('eval("...")', code) == [1, 2, 4]


def test_statement_sequences_reach_into_nested_blocks() -> None:
    code = ("def f():\n    conn = connect()\n    log()\n    if ok:\n        conn.close()\n"
            "def g():\n    conn = connect()\n    other.close()\n")
    assert lines("$C = connect()\n...\n$C.close()", code) == [2]


def test_expression_statement_patterns_look_into_assignments_and_returns() -> None:
    code = "def f():\n    a()\n    x = b()\n    a()\n    return b()\n    a()\n    c(b())\n"
    assert lines("a()\nb()", code) == [2, 4, 6]


def test_and_or_are_associative_not_commutative() -> None:
    code = "if p and q and r:\n    pass\nif q and p and r:\n    pass\n"
    assert lines("p and $Z", code) == [1]


def test_bitwise_operators_match_in_any_order() -> None:
    assert lines("A | B", "x = B | C | A\ny = C | D\n") == [1]


def test_decorators_split_name_and_arguments() -> None:
    code = "@route('/a')\ndef f(): pass\n\n@route\ndef g(): pass\n\n@cached\ndef h(): pass\n"
    assert lines("@route(...)\ndef $F(...):\n    ...", code) == [1, 4]
    assert lines("@$D\ndef $F(...):\n    ...", code) == [4, 7]


def test_class_members_match_in_any_order() -> None:
    code = ("class A:\n    def b(self): pass\n    def a(self): pass\n"
            "class B:\n    def a(self): pass\n")
    assert lines("class $C:\n    def a(self): ...\n    def b(self): ...", code) == [1]


def test_dictionary_and_set_ellipses() -> None:
    code = "d = {'k': 1, 'z': 2}\ns = {1, 2}\ne = {}\n"
    assert lines("{..., 'z': $V, ...}", code) == [1]
    assert lines("{...}", code) == [1, 2, 3]


def test_method_chains_and_deep_expressions() -> None:
    code = "q.filter(a).order(b).first()\nz = [fetch(1), other]\n"
    assert lines("$Q. ... .first()", code) == [1]
    assert lines("z = <... fetch($N) ...>", code) == [2]


def test_typed_metavariables_use_literal_types() -> None:
    assert lines("log($X: int)", "log(3)\nlog('s')\nlog(2.5)\n") == [1]


def test_symbolic_propagation_is_an_option() -> None:
    rule = """rules:
  - id: r
    languages: [python]
    message: m
    pattern: Session().query(...)
    options:
      symbolic_propagation: true
"""
    code = "def f():\n    s = Session()\n    s.query(x)\n"
    assert rule_lines(rule, code) == [3]
    assert rule_lines(rule.replace("true", "false"), code) == []


def test_formula_operators_and_persistent_bindings() -> None:
    rule = """rules:
  - id: r
    languages: [python]
    message: m
    patterns:
      - pattern-inside: |
          def $F(...):
            ...
      - pattern: send($MSG)
      - pattern-not: send("ok")
      - metavariable-regex:
          metavariable: $F
          regex: (?<word>handle)_.*
      - focus-metavariable: $MSG
"""
    code = ("def handle_a():\n    send(x)\n    send('ok')\n"
            "def other():\n    send(y)\n")
    assert rule_lines(rule, code) == [2]


def test_metavariable_comparison_and_nested_language() -> None:
    rule = """rules:
  - id: r
    languages: [python]
    message: m
    patterns:
      - pattern: sleep($T)
      - metavariable-comparison:
          metavariable: $T
          comparison: $T > 10 and $T % 2 == 0
"""
    assert rule_lines(rule, "sleep(12)\nsleep(11)\nsleep(4)\n") == [1]
    nested = """rules:
  - id: r
    languages: [python]
    message: m
    patterns:
      - pattern: run_js("$CODE")
      - metavariable-pattern:
          metavariable: $CODE
          language: javascript
          pattern: eval(...)
"""
    assert rule_lines(nested, "run_js('eval(a)')\nrun_js('log(a)')\n") == [1]


def test_unparsable_and_too_deep_patterns_are_refused() -> None:
    with pytest.raises(PatternError, match="not valid python"):
        compile_pattern("def (:", "python")
    with pytest.raises(PatternError, match="deeper"):
        compile_pattern("f(" * 400 + "x" + ")" * 400, "python")


def test_a_lone_metavariable_skips_loop_targets_keywords_and_string_insides() -> None:
    code = "for i, j in pairs:\n    use('text')\nys = [k for k in xs]\n"
    starts = {code[m.start:m.end] for m in find(compile_pattern("$X", "python"),
                                                Target(parse_snippet(code, "python")))}
    assert {"pairs", "'text'", "use('text')", "use", "xs", "k"} <= starts
    assert not {"i", "j", "i, j", "text"} & starts
    assert starts.isdisjoint({"for", "in"})
