"""The native walker (indexer/_native.c) against the Python path it replaces: the same index,
byte for byte, on real files in many languages; the tags patterns it compiles; the tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import languages, tokens
from indexer.parse import library, tags
from tests.conftest import REPO, write_tree

SNIPPETS: dict[str, str | bytes] = {
    "app/models.py": (
        "LIMIT = 10\nname, other = 1, 2\n\n\nclass Model(Base):\n    x: int = 1\n\n"
        "    def save(self, *args):\n        def inner():\n            return 1\n"
        "        return inner()\n\n\nasync def handler(request):\n    pass\n"),
    "app/broken.py": "def broken(:\n    return [1, 2\nclass Fine:\n    pass\n",
    "app/empty.py": "",
    "app/latin1.py": b"def caf\xe9():\n    return '\xff\xfe na\xefve'\n" + b"x" * 70 + b" = 1\n",
    "web/app.js": (
        "class Widget extends Base {\n  constructor(a) { super(a); }\n  render() { return 1; }\n}\n"
        "function helper(x) { return x; }\nconst arrow = (y) => y * 2;\n"
        "var legacy = function () {};\nobj.method = function () {};\n"
        "const table = { key: () => 1, other: function () {} };\n"
        "export const VERSION = '1.0';\nfunction* gen() { yield 1; }\n"),
    "web/types.ts": (
        "interface Shape { area(): number; }\nabstract class Base { abstract run(): void; }\n"
        "export function make(): Shape { return null as any; }\n"
        "declare module 'x' { export const y: number; }\ntype Alias = string;\n"),
    "web/view.tsx": "export function View(): JSX.Element { return <div>hi</div>; }\n",
    "svc/main.go": (
        "package main\n\ntype Server struct{}\n\ntype Handler interface{ Serve() }\n\n"
        "func (s *Server) Serve() {}\n\nfunc main() {}\n"),
    "svc/Main.java": (
        "package x;\npublic class Main implements Runnable {\n  public void run() {}\n"
        "  interface Inner {}\n}\n"),
    "lib/thing.rb": (
        "module Outer\n  class Thing < Base\n    def go; end\n    def self.make; end\n"
        "    alias_method :run, :go\n  end\nend\nclass << self\nend\n"),
    "lib/thing.c": (
        "struct point { int x; };\ntypedef int number;\nenum color { RED };\n"
        "static int add(int a, int b) { return a + b; }\n"),
    "lib/thing.php": (
        "<?php\nnamespace App;\ninterface Shape {}\nclass Box implements Shape {\n"
        "  public $size;\n  function area() { return 1; }\n}\nfunction helper() {}\n"),
    "lib/thing.rs": "struct Point { x: i32 }\nimpl Point { fn new() -> Self { Point { x: 1 } } }\n",
    "lib/thing.cpp": "namespace ns { class A { void f(); }; }\nint main() { return 0; }\n",
    "docs/page.html": "<html><body><p class='x'>Hello</p></body></html>\n",
    "docs/notes.md": "# Title\n\nSome *text* with `code`.\n",
    "conf/settings.json": '{"a": [1, 2, {"b": null}]}\n',
}


def build_tree(root: Path) -> Path:
    write_tree(root, SNIPPETS)
    for source in [*(REPO / "indexer").rglob("*.py"), *(REPO / "tests" / "rules").iterdir()]:
        target = root / "real" / source.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    return root


def index_with(root: Path, db: Path, native: str) -> None:
    env = dict(os.environ, CODELENS_NATIVE=native, CODELENS_NO_DAEMON="1")
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(root), "--db",
                           str(db), "--jobs", "1", "--quiet"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_the_native_module_is_built_for_the_installed_tree_sitter() -> None:
    native, why = library.native_walker()
    assert native is not None, f"native walker {why}"
    assert why == f"on (tree-sitter {languages.installed_version('tree_sitter')})"


def test_native_and_python_paths_write_the_same_index(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "project")
    index_with(root, tmp_path / "python.db", "0")
    index_with(root, tmp_path / "native.db", "1")
    db = apsw.Connection(str(tmp_path / "native.db"))
    db.execute("ATTACH ? AS py", (str(tmp_path / "python.db"),))

    def both(sql: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        return (sorted(db.execute(sql.format(db="main"))),
                sorted(db.execute(sql.format(db="py"))))

    for sql in ("SELECT path, language, status, error, sha256 FROM {db}.files",
                "SELECT sha256, parser_version, blob, node_count, parse_error FROM {db}.asts",
                "SELECT f.path, s.name, s.kind, s.start_line, s.end_line FROM {db}.symbol_rows s"
                " JOIN {db}.files f ON f.id = s.file_id",
                "SELECT f.path, t.text FROM {db}.postings p JOIN {db}.tokens t"
                " ON t.id = p.token_id JOIN {db}.files f ON f.id = p.file_id"):
        native, python = both(sql)
        assert native == python, sql
        assert native, sql  # there is something to compare
    symbols = {(row[0], row[1], row[2]) for row in both(
        "SELECT f.path, s.name, s.kind FROM {db}.symbol_rows s JOIN {db}.files f"
        " ON f.id = s.file_id")[0]}
    # a sample of what the compiled patterns must find, and what their predicates drop
    assert {("app/models.py", "LIMIT", "constant"), ("app/models.py", "save", "function"),
            ("web/app.js", "render", "method"), ("web/app.js", "arrow", "function"),
            ("svc/main.go", "Serve", "method"), ("lib/thing.rb", "make", "method"),
            ("lib/thing.rs", "Point", "class")} <= symbols
    assert ("web/app.js", "constructor", "method") not in symbols


def test_tags_patterns_compile_where_they_can_and_fall_back_where_not() -> None:
    compiled = {}
    for language in ("python", "javascript", "typescript", "go", "java", "c", "ruby", "php",
                     "rust", "cpp"):
        grammar = languages.load_grammar(language)
        assert grammar.tags_query, language
        compiled[language] = tags.compile_definitions(grammar.language, grammar.tags_query)
    assert all(compiled[lang] is not None for lang in ("python", "javascript", "go", "java"))
    assert compiled["rust"] is None  # negated fields: the query runs instead
    assert compiled["cpp"] is None  # a @local.scope capture
    python = compiled["python"]
    assert python is not None and sorted(python.kinds) == ["class", "constant", "function"]
    grammar = languages.load_grammar("python")
    for unsupported in ("((identifier)+ @name) @definition.x",
                        "(class_definition . name: (identifier) @name) @definition.class",
                        "(class_definition !body name: (identifier) @name) @definition.class",
                        "((identifier) @name @definition.x (#match? @definition.x \"a\"))"):
        assert tags.compile_definitions(grammar.language, unsupported) is None, unsupported
    checked = tags.compile_definitions(
        grammar.language, '((function_definition name: (identifier) @name) @definition.function'
                          ' (#not-match? @name "^_"))')
    assert checked is not None
    (check,), = checked.checks
    assert check("public") and not check("_private")


def test_a_native_parse_stops_at_its_deadline() -> None:
    parsers = library.Parsers()
    source = b"x = " + b"(" * 200_000 + b"1" + b")" * 200_000 + b"\n"
    with pytest.raises(library.ParseTimeout):
        parsers.parse_native("python", source, 0.0005)
    packed = parsers.parse_native("python", b"a = 1\n", 5.0)  # the parser is usable again
    _arrays, node_count, _kinds, _fields, _found, error = packed
    assert node_count == 6 and error is None


def test_the_native_module_takes_grammar_capsules_not_binding_objects() -> None:
    """It parses with its own core: a grammar is its package's language() capsule, and
    nothing it returns is a py-tree-sitter object."""
    parsers = library.Parsers()
    module = parsers.native
    assert module is not None
    grammar = languages.load_grammar("python")
    with pytest.raises(ValueError):
        module.new_parser(grammar.language)  # a tree_sitter.Language is not a capsule
    packed = parsers.parse_native("python", b"x = 1\ndef f(:\n  pass\n", None)
    assert all(type(part).__module__ == "builtins" for part in packed)
    assert packed[-1] == "missing ) at line 2"


@pytest.mark.parametrize("source", [b"x = (1,\n", b"def f(:\n  pass\n", b"a = 1\n)\n\n(\n",
                                    b"class A:\ndef\n", b"\xff\xfe(\n", b"x = 1\n"])
def test_native_syntax_errors_are_the_python_ones(source: bytes) -> None:
    parsers = library.Parsers()
    root = parsers.parse("python", source, None).root_node
    python = library._first_error(root) if root.has_error else None
    assert parsers.parse_native("python", source, None)[-1] == python


def test_tags_queries_with_text_predicates_take_the_python_path() -> None:
    module = library.native_walker()[0]
    assert module is not None
    capsule = languages.load_grammar("python").capsule
    query = b'((function_definition name: (identifier) @name) @definition.function)\n'
    _compiled, names = module.compile_query(capsule, query)
    assert names == ("name", "definition.function")
    with pytest.raises(NotImplementedError):
        module.compile_query(capsule, query[:-2] + b' (#eq? @name "f"))\n')
    with pytest.raises(ValueError):
        module.compile_query(capsule, b"(no_such_node) @definition.x")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_native_tokens_are_the_python_tokens(source: bytes) -> None:
    native = tokens._extractor()
    assert native is not tokens.python_extract_tokens, "the native module is not built"
    assert sorted(tokens.split_tokens(native(source, tokens.MAX_LEN))) == sorted(
        tokens.split_tokens(tokens.python_extract_tokens(source)))


@given(st.lists(st.integers(1, 40), max_size=300))
@settings(max_examples=60, deadline=None)
def test_tree_tables_match_the_python_ones(steps: list[int]) -> None:
    """subtree_ends and parents in C against their Python twins, on any preorder depths."""
    from indexer import native
    from indexer.match.tree import parents_python, subtree_ends_python

    module = native.module()
    if module is None:
        pytest.skip("the native module is not built")
    depths = [0]
    for step in steps:  # a child (deeper by one) or back up to any open level
        depths.append(depths[-1] + 1 if step == 1 else max(1, depths[-1] - step % 4))
    assert module.subtree_ends(depths) == subtree_ends_python(depths)
    assert module.parents(depths) == parents_python(depths)
