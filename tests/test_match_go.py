"""The Go converter: Go's own spellings against semgrep-style patterns."""

from __future__ import annotations

import pytest

from indexer.match.lang.go import package_alias
from indexer.match.pattern import compile_pattern
from indexer.match.search import Target, find
from indexer.match.snippet import parse_snippet


def lines(pattern: str, code: str) -> list[int]:
    """The 1-based lines where ``pattern`` matches in ``code``."""
    tree = parse_snippet(code, "go")
    assert tree is not None
    target = Target(tree)
    found = find(compile_pattern(pattern, "go"), target)
    return sorted({target.position(m.start)[0] for m in found})


def test_assign_pattern_matches_short_declarations_but_not_the_reverse() -> None:
    code = "package p\nfunc f() {\n\tcount := load()\n\ttotal = load()\n}\n"
    assert lines("$V = load()", code) == [3, 4]
    assert lines("$V := load()", code) == [3]


def test_each_name_of_a_var_spec_is_its_own_declaration() -> None:
    code = "package p\nvar (\n\tfirst, second = 10, 20\n)\nvar third int\n"
    assert lines("var $N = 20", code) == [3]
    assert lines("var $N int", code) == [5]
    assert lines("$N = 10", code) == [3]


def test_an_import_alias_stands_for_the_package_name() -> None:
    code = ('package p\nimport (\n\tweb "net/http"\n\ttok "github.com/acme/token-go"\n'
            '\tgapi "google.golang.org/api/drive/v2"\n)\n'
            'func f() {\n\tweb.Get(u)\n\ttok.Parse(s)\n\tgapi.New(c)\n}\n')
    assert lines("http.Get(...)", code) == [8]
    assert lines("token.Parse($S)", code) == [9]
    assert lines("drive.New(...)", code) == [10]
    assert lines("web.Post(...)", code) == []


@pytest.mark.parametrize(("path", "name"), [
    ("net/http", "http"), ("github.com/dgrijalva/jwt-go", "jwt"),
    ("google.golang.org/api/youtube/v3", "youtube"), ("fmt", "fmt")])
def test_package_alias(path: str, name: str) -> None:
    assert package_alias(path) == name


def test_import_patterns_match_path_prefixes_and_regexes() -> None:
    code = 'package p\nimport "net/http"\nimport . "network/util"\nimport _ "net"\n'
    assert lines('import "net"', code) == [2, 4]
    assert lines('import "network/util"', code) == [3]
    assert lines('import "=~/^net.*util$/"', code) == [3]
    assert lines('import $ALIAS "net"', code) == [4]


def test_composite_literal_fields_in_any_order() -> None:
    code = ("package p\nfunc f() {\n\tc := &tls.Config{MinVersion: 1, InsecureSkipVerify: true}\n"
            "\td := tls.Config{InsecureSkipVerify: false}\n}\n")
    assert lines("tls.Config{..., InsecureSkipVerify: true, ...}", code) == [3]
    assert lines("InsecureSkipVerify: $B", code) == [3, 4]
    assert lines("tls.Config{InsecureSkipVerify: $B}", code) == [4]


def test_new_is_a_reference_to_a_fresh_value() -> None:
    code = "package p\nfunc f() {\n\ta := new(bytes.Buffer)\n\tb := &bytes.Buffer{}\n}\n"
    assert lines("&bytes.Buffer{}", code) == [3, 4]


def test_variadic_spread_is_not_the_pattern_ellipsis() -> None:
    code = "package p\nfunc f() {\n\tjoin(parts...)\n\tjoin(parts)\n}\n"
    assert lines("join(...)", code) == [3, 4]
    assert lines("join(parts)", code) == [4]
    assert lines("join(parts...)", code) == [3]


def test_make_takes_a_type_that_an_expression_metavariable_does_not() -> None:
    code = "package p\nfunc f() {\n\ta := make(chan int)\n\tb := make(chan int, 8)\n}\n"
    assert lines("make(..., $SIZE)", code) == [4]
    assert lines("make(chan $T, ...)", code) == [3, 4]


def test_if_with_an_initializer() -> None:
    code = ("package p\nfunc f() {\n\tif err := run(); err != nil {\n\t\treturn\n\t}\n"
            "\tif ok {\n\t}\n}\n")
    assert lines("if $E != nil { ... }", code) == [3]
    assert lines("if $X := run(); $X != nil { ... }", code) == [3]
    assert lines("if $C { ... }", code) == [3, 6]


def test_typed_metavariables() -> None:
    code = ('package p\nfunc f(req *http.Request, name string) {\n\tvar n = 3\n'
            '\tc := &http.Client{}\n\tuse(req)\n\tuse(name)\n\tuse(n)\n\tc.Do(req)\n}\n')
    assert lines("use(($R : *http.Request))", code) == [5]
    assert lines("use(($S : string))", code) == [6]
    assert lines("use(($I : int))", code) == [7]
    assert lines("($C : *http.Client).Do(...)", code) == [8]


def test_go_defer_and_select() -> None:
    code = ("package p\nfunc f() {\n\tdefer file.Close()\n\tgo work(1)\n\tselect {\n"
            "\tcase out <- v:\n\t\tlog()\n\tdefault:\n\t}\n}\n")
    assert lines("defer $F.Close()", code) == [3]
    assert lines("work(1)", code) == [4]
    assert lines("select {\ncase ...\ncase $C <- $V: ...\n}", code) == [5]


def test_a_shadowing_declaration_is_another_variable() -> None:
    code = ("package p\nfunc f(xs []int) {\n\tfor i := range xs {\n\t\tuse(i)\n\t}\n"
            "\tfor i := range xs {\n\t\ti := i\n\t\tuse(i)\n\t}\n}\n")
    assert lines("for $I := range $L {\n...\nuse($I)\n}", code) == [3]


def test_function_signatures_and_struct_tags() -> None:
    code = ('package p\ntype User struct {\n\tName string `json:"name"`\n}\n'
            "func (u *User) Save(ctx context.Context) error {\n\treturn nil\n}\n")
    assert lines("func ($R *User) $M(...) error", code) == [5]
    assert lines('`json:"name"`', code) == [3]
    assert lines("type $T struct { ... }", code) == [2]


def test_a_loop_pattern_with_an_ellipsis_header_matches_any_loop() -> None:
    code = ("package p\nfunc f(xs []int) {\n\tfor i := 0; i < 3; i++ {\n\t\tstep()\n\t}\n"
            "\tfor _, x := range xs {\n\t\tstep()\n\t}\n\tfor {\n\t}\n}\n")
    assert lines("for ... {\n...\nstep()\n...\n}", code) == [3, 6]
    assert lines("for $K, $V := range $L { ... }", code) == [6]


def test_struct_fields_match_in_any_order_and_more_are_allowed() -> None:
    code = ("package p\ntype Conf struct {\n\tPort int\n\tHost string `env:\"HOST\"`\n}\n"
            "type Empty struct {\n}\n")
    assert lines("type $T struct { $F string }", code) == [2]
    assert lines("type $T struct { Host $X `$TAG` \n Port int }", code) == [2]
    assert lines("type $T struct { }", code) == [2, 6]


def test_a_name_has_the_type_of_its_own_declaration() -> None:
    code = ("package p\nfunc a(db *sql.DB) {\n\tdb.Exec(q)\n}\n"
            "func b(db *gorm.DB) {\n\tdb.Exec(q)\n}\n"
            "func c() {\n\tdb := connect()\n\tdb.Exec(q)\n}\n")
    assert lines("($D : *sql.DB).Exec(...)", code) == [3]
    assert lines("($D : *gorm.DB).Exec(...)", code) == [6]
