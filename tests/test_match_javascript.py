"""The JavaScript / TypeScript converter: semgrep's equivalences on small examples."""

from __future__ import annotations

import pytest

from indexer.match.evaluate import Evaluation, rule_matches
from indexer.match.pattern import compile_pattern
from indexer.match.rules import parse_rules_text
from indexer.match.search import Target, find
from indexer.match.snippet import parse_snippet


def lines(pattern: str, code: str, language: str = "javascript") -> list[int]:
    """The 1-based lines where ``pattern`` matches ``code``."""
    tree = parse_snippet(code, language)
    assert tree is not None
    target = Target(tree)
    compiled = compile_pattern(pattern, language)
    return sorted({target.position(m.start)[0] for m in find(compiled, target)})


def rule_lines(rule_yaml: str, code: str, language: str = "javascript") -> list[int]:
    rules, errors = parse_rules_text(rule_yaml, "test.yaml")
    assert not errors and rules
    tree = parse_snippet(code, language)
    assert tree is not None
    target = Target(tree)
    run = Evaluation(target, rules[0].languages, rules[0].options)
    return sorted({target.position(f.start)[0] for f in rule_matches(rules[0].formula, run)})


# ---- declarations


def test_var_pattern_matches_let_and_const() -> None:
    code = "var a = 'x';\nlet b = 'x';\nconst c = 'x';\nd = 'x';\n"
    assert lines("var $V = 'x';", code) == [1, 2, 3]
    assert lines("const $V = 'x';", code) == [3]


def test_assignment_pattern_matches_declarations() -> None:
    assert lines("$V = compute()", "let total = compute();\nother = compute();\n") == [1, 2]


def test_several_declarators_are_several_definitions() -> None:
    code = "let first = 1, second = open();\n"
    assert lines("$V = open()", code) == [1]


# ---- functions


def test_arrow_and_function_expression_are_lambdas() -> None:
    code = "run(function (e) { log(e); });\nrun((e) => { log(e); });\nfunction named(e) {}\n"
    assert lines("(e) => { ... }", code) == [1, 2]
    assert lines("function (e) { ... }", code) == [1, 2]


def test_function_dots_name_matches_declarations_and_lambdas() -> None:
    code = "function one(a) { return a; }\nconst two = (a) => a;\n"
    assert lines("function ...(...) { ... }", code) == [1, 2]


def test_partial_function_pattern() -> None:
    code = "function handler(req, res) {\n  res.send(1);\n}\nfunction other() {}\n"
    assert lines("function handler(...)", code) == [1]


# ---- objects, spreads, templates


def test_object_fields_in_any_order() -> None:
    code = "cfg({ port: 80, secure: false, host: 'h' });\ncfg({ port: 80 });\n"
    assert lines("cfg({secure: false, ...})", code) == [1]
    assert lines("{ host: $H, port: $P }", code) == [1]


def test_string_and_identifier_keys_are_the_same() -> None:
    assert lines("{ name: $N }", "x = { 'name': 'a' };\ny = { name: 'b' };\n") == [1, 2]


def test_spread_is_not_an_ellipsis() -> None:
    code = "merge({...base});\nmerge({...base, extra: 1});\nmerge({});\n"
    assert lines("merge({...$B, ...})", code) == [1, 2]


def test_template_literal_holes() -> None:
    code = "q = `select ${id} from t`;\nr = `constant`;\ns = 'plain';\n"
    assert lines("$X = `...${$E}...`", code) == [1]
    assert lines("$X = `...`", code) == [1, 2]


def test_tagged_template_is_not_a_call_with_a_template() -> None:
    code = "db.raw(`a ${x}`);\ndb.raw`a ${x}`;\n"
    assert lines("db.raw(`...`)", code) == [1]


# ---- imports


def test_import_forms() -> None:
    code = ("import def from 'lib';\nimport * as ns from 'lib';\nimport { a, b as c } from 'lib';\n"
            "import 'lib/sub/file';\nimport other from 'elsewhere';\n")
    assert lines("import 'lib';", code) == [1, 2, 3, 4]
    assert lines("import { a } from 'lib';", code) == [3]
    assert lines("import $X from 'lib';", code) == [1]


def test_require_is_an_import() -> None:
    code = "const { spawn, exec: run } = require('child_process');\nrun('ls');\nspawn('x');\n"
    assert lines("import { exec as $R } from 'child_process';", code) == [1]
    assert lines("child_process.exec(...)", code) == [2]
    assert lines("child_process.spawn(...)", code) == [3]


def test_imported_alias_resolves() -> None:
    code = "import { readFile as rf } from 'fs';\nrf('a');\nreadFile('b');\n"
    assert lines("fs.readFile(...)", code) == [2]


# ---- classes and decorators


def test_class_members_in_any_order() -> None:
    code = "class Svc {\n  start() {}\n  port = 8080;\n  stop() {}\n}\n"
    assert lines("class $C { stop() { ... } port = $P; }", code) == [1]


def test_decorator_without_call_equals_empty_call() -> None:
    code = "@Guard\nclass A {}\n@Guard()\nclass B {}\n@Guard('x')\nclass C {}\n"
    assert lines("@$D\nclass $X { ... }", code) == [1, 3]


def test_exported_function() -> None:
    code = "function hidden(req) {}\nexport function shown(req) {}\n"
    assert lines("export function $F(req) { ... }", code) == [2]
    assert lines("function $F(req) { ... }", code) == [1, 2]


# ---- TypeScript


def test_typed_metavariable() -> None:
    code = ("function f(s: string, n: number) {\n  use(s);\n  use(n);\n  use('lit');\n"
            "  let v = 'x';\n  use(v);\n}\n")
    assert lines("use(($X: string))", code, "typescript") == [2, 4, 6]


def test_as_cast_and_typed_parameters() -> None:
    code = "const v = data as Config;\nfunction g(a: int) {}\nfunction h(a: bool) {}\n"
    assert lines("$V = $E as $T", code, "typescript") == [1]
    assert lines("function $F($A: int) { ... }", code, "typescript") == [2]


def test_optional_chaining_is_its_own_access() -> None:
    code = "a = user?.name;\nb = user.name;\n"
    assert lines("user?.name", code, "typescript") == [1]
    assert lines("user.name", code, "typescript") == [2]


# ---- JSX


@pytest.mark.parametrize(("pattern", "expected"), [
    ("<div kind=\"box\" />", [1, 2]),
    ("<div id=$I kind=\"box\" />", [2]),
    ("<$T>text</$T>", [3]),
    ("<$T>...</$T>", [1, 2, 3]),
])
def test_jsx(pattern: str, expected: list[int]) -> None:
    code = ("x = <div kind=\"box\" />;\ny = <div kind=\"box\" id=\"k\"></div>;\n"
            "z = <span>text</span>;\n")
    assert lines(pattern, code) == expected


# ---- statements and options


def test_deep_statement_reaches_into_callbacks() -> None:
    code = "open();\nlater(() => {\n  close();\n});\n"
    assert lines("open();\n...\nclose();", code) == [1]


def test_partial_try_and_catch() -> None:
    code = "try {\n  risky();\n} catch (err) {\n  report(err);\n}\n"
    assert lines("try { ... }", code) == [1]
    assert lines("catch ($E) { ... }", code) == [3]


def test_symbolic_propagation_option() -> None:
    rule = ("rules:\n- id: r\n  languages: [js]\n  message: m\n  severity: INFO\n"
            "  options:\n    symbolic_propagation: true\n  pattern: send(build(1))\n")
    code = "const payload = build(1);\nsend(payload);\n"
    assert rule_lines(rule, code) == [2]


def test_let_is_var_option() -> None:
    rule = ("rules:\n- id: r\n  languages: [js]\n  message: m\n  severity: INFO\n"
            "  options:\n    let_is_var: false\n  pattern: var $X = 1;\n")
    assert rule_lines(rule, "var a = 1;\nlet b = 1;\n") == [1]


def test_nested_parameter_is_another_variable() -> None:
    code = ("function outer() {\n  let token = 1;\n  function inner(token) {\n"
            "    log(token);\n  }\n  function same() {\n    log(token);\n  }\n}\n")
    assert lines("let $T = 1;\n...\nlog($T);", code) == [2]
    assert lines("log(token)", code) == [4, 7]


def test_partial_finally() -> None:
    code = "try {\n  a();\n} finally {\n  b();\n}\n"
    assert lines("finally { ... }", code) == [3]


def test_number_types() -> None:
    code = "count = 3;\nuse(count);\nuse(2.5);\nuse('s');\n"
    assert lines("use(($N: number))", code) == [2, 3]
    assert lines("use(($N: float))", code) == [2, 3]
