"""Java patterns against Java code: the equivalences the Java converter and typing give."""

from __future__ import annotations

import pytest

from indexer.match.evaluate import Evaluation, rule_matches
from indexer.match.pattern import compile_pattern
from indexer.match.rules import parse_rules_text
from indexer.match.search import Target, find
from indexer.match.snippet import parse_snippet


def lines(pattern: str, code: str) -> list[int]:
    """The 1-based lines where the pattern's matches start."""
    source = code.encode()
    tree = parse_snippet(source, "java")
    assert tree is not None
    found = find(compile_pattern(pattern, "java"), Target(tree))
    return sorted({source[:m.start].count(b"\n") + 1 for m in found})


def rule_lines(rule_yaml: str, code: str) -> list[int]:
    rules, errors = parse_rules_text(rule_yaml, "test.yaml")
    assert not errors
    source = code.encode()
    tree = parse_snippet(source, "java")
    assert tree is not None
    target = Target(tree)
    out: set[int] = set()
    for rule in rules:
        for match in rule_matches(rule.formula, Evaluation(target, rule.languages,
                                                           rule.options)):
            out.add(source[:match.start].count(b"\n") + 1)
    return sorted(out)


def wrap(body: str) -> str:
    return "class Shop {\n  void run(Basket basket) {\n" + body + "\n  }\n}\n"


# ---- calls, fields, new

def test_method_call_is_a_call_of_an_attribute() -> None:
    code = wrap("basket.add(apple);\nadd(apple);\nbasket.items.add(pear);")
    assert lines("basket.add($X)", code) == [3]
    assert lines("$O.add(...)", code) == [3, 5]
    assert lines("add(apple)", code) == [4]


def test_new_with_generics_and_anonymous_body() -> None:
    code = wrap("Map<String, Integer> m = new HashMap<String, Integer>();\n"
                "Runnable r = new Runnable() { public void run() {} };")
    assert lines("new HashMap<$K, $V>()", code) == [3]
    assert lines("new Runnable()", code) == []  # semgrep: an anonymous class is apart
    assert lines("new Runnable() { ... }", code) == [4]


def test_this_field_and_plain_field() -> None:
    code = wrap("this.total = 0;\ntotal = 0;")
    assert lines("this.$F = 0", code) == [3]


# ---- declarations

def test_declaration_with_several_variables() -> None:
    code = wrap("int count = 1, limit;\nint other = 2;")
    assert lines("int limit;", code) == [3]
    assert lines("int $V = 1;", code) == [3]


def test_assignment_pattern_matches_initialized_declaration() -> None:
    code = wrap("String name = read();\nname = read();\nString late;")
    assert lines("$X = read()", code) == [3, 4]


def test_class_members_in_any_order_with_modifiers() -> None:
    code = """
@Entity
public final class Order {
  private int id;
  public void pay() {}
  static String label() { return "order"; }
}
"""
    assert lines("class $C { void pay() {} }", code) == [2]
    assert lines("class $C { ... static String label() { ... } ... int id; }", code) == [2]
    assert lines("@Entity class $C { ... }", code) == [2]
    assert lines("@Table class $C { ... }", code) == []


def test_annotation_arguments_must_agree() -> None:
    code = """
class Api {
  @Get("/a")
  void a() {}
  @Get
  void b() {}
}
"""
    assert lines("@Get(...) void $M() {}", code) == [3, 5]
    assert lines("@Get void $M() {}", code) == [5]
    assert lines('@Get("/a")', code) == [3]


def test_partial_patterns() -> None:
    code = """
class Shop {
  void pay(int amount) {
    try { charge(amount); } catch (Exception e) { log(e); } finally { close(); }
  }
}
"""
    assert lines("void pay(...)", code) == [3]
    assert lines("class $C", code) == [2]
    assert lines("try { ... }", code) == [4]


def test_parameters_dots_and_varargs() -> None:
    code = """
class Calc {
  int sum(int... values) { return 0; }
  int max(int a, int b) { return a; }
}
"""
    assert lines("int $F(...) { ... }", code) == [3, 4]
    assert lines("int $F(int... $V) { ... }", code) == [3]
    assert lines("int $F(int $A, int $B) { ... }", code) == [4]


# ---- imports and names

def test_imported_name_is_its_qualified_name() -> None:
    code = "import java.util.Random;\nclass A { void f() { Random r = new Random(); } }\n"
    assert lines("new java.util.Random()", code) == [2]


def test_wildcard_import_qualifies_a_name() -> None:
    code = "import org.app.*;\nclass A { void f() { Tools.run(); Other.run(); } }\n"
    assert lines("org.app.Tools.run()", code) == [2]
    assert lines("org.lib.Tools.run()", code) == []


def test_import_metavariable_binds_the_whole_path() -> None:
    code = "import static a.b.Helper.go;\nimport a.b.Plain;\n"
    assert lines("import $X;", code) == [1, 2]
    assert lines("import static $X;", code) == [1]


# ---- typed metavariables

def test_typed_metavariable_uses_declared_types_in_scope() -> None:
    code = wrap("String text = load();\nint size = 3;\nshow(text);\nshow(size);\nshow(\"x\");")
    assert lines("show((String $X))", code) == [5, 7]
    assert lines("show((int $X))", code) == [6]


def test_a_type_written_out_has_no_type() -> None:
    code = wrap("String text = load();\nList<String> all = make();")
    assert lines("(String $X)", code) == [3]  # `text`, never the type names


def test_written_types_are_found_by_name_patterns_only() -> None:
    code = "import java.util.List;\nclass A {\n  List items;\n}\n"
    assert lines("java.util.List", code) == [3]
    assert lines("$X", code) == []


def test_boxed_and_primitive_types_are_alike() -> None:
    code = wrap("Integer boxed = 4;\nlong wide = 5;\nshow(boxed);\nshow(wide);\nshow(true);")
    assert lines("show((int $X))", code) == [5, 6]
    assert lines("show((Boolean $X))", code) == [7]


def test_typed_metavariable_with_generic_type() -> None:
    code = wrap("List<String> names = make();\nSet<String> tags = make();\n"
                "names.add(\"a\");\ntags.add(\"b\");")
    assert lines("(List<$T> $L).add(...)", code) == [5]


def test_comparison_is_boolean() -> None:
    code = wrap("show(a == b);\nshow(a + 1);")
    assert lines("show((boolean $X))", code) == [3]


# ---- constants

def test_final_field_is_a_constant() -> None:
    code = """
class Crypto {
  private static final String ALGO = "MD5";
  public String mode = "ECB";
  void f() { digest(ALGO); digest(mode); digest(this.ALGO); }
}
"""
    assert lines('digest("MD5")', code) == [5]


def test_assignment_in_condition_is_applied_in_order() -> None:
    code = wrap('String s = "a";\nif ((s = "b") != null) { use(s); }\n'
                'if (ok && (s = "c") != null) { use(s); }\nuse(s);')
    assert lines('use("a")', code) == []
    assert lines('use("b")', code) == [4]  # the right of && may not run: s is not "c"
    assert lines('use("c")', code) == []
    assert lines('use("...")', code) == [4, 5, 6]


def test_loop_keeps_a_value_only_when_the_body_cannot_come_back() -> None:
    code = wrap('String s = "a";\nwhile (more()) { s = s + "x"; }\nuse(s);')
    assert lines('use("...")', code) == []


# ---- statements

def test_try_with_resources_holds_a_try() -> None:
    code = wrap("try (Reader r = open()) { read(r); } catch (IOException e) { }")
    assert lines("try { ... } catch (IOException $E) { ... }", code) == [3]
    assert lines("open()", code) == [3]


def test_for_ellipsis_matches_any_loop_header() -> None:
    code = wrap("for (int i = 0; i < n; i++) { step(); }\nfor (Item it : items) { step(); }")
    assert lines("for (...) { step(); }", code) == [3, 4]


def test_statement_metavariable_matches_a_block() -> None:
    code = wrap("if (c) { a(); b(); } else { a(); b(); }\nif (c) { a(); } else { b(); }")
    assert lines("if ($C) $S; else $S;", code) == [3]


@pytest.mark.parametrize("pattern", ["$X == $X", "(Object) this"])
def test_patterns_compile(pattern: str) -> None:
    assert compile_pattern(pattern, "java").shape == "expr"


def test_symbolic_propagation_follows_assigned_expressions() -> None:
    rule = """
rules:
- id: sym
  languages: [java]
  message: m
  severity: INFO
  options:
    symbolic_propagation: true
  pattern: sink(request.getParameter(...))
"""
    code = wrap('String v = request.getParameter("q");\nsink(v);\nsink(other);')
    assert rule_lines(rule, code) == [4]
