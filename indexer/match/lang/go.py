"""tree-sitter-go to the normalized vocabulary: statements and declarations (expressions and
types are in ``go_expr.py``).

Go's own ways, and how they come out (semgrep's go_to_generic is the reference):

- ``x := e`` is ``Assign(":=")`` and ``x = e`` is ``Assign("=")``: a pattern ``$X = $Y``
  matches both, ``$X := $Y`` only short declarations (the matcher's rule); several names
  make a tuple ``Container`` on each side; a statement of one expression is an ``ExprStmt``;
- ``var``/``const`` declarations make one ``VarDef`` per name (``var a, b = 1, 2`` is two),
  with a ``Modifier`` attribute ``var`` or ``const``;
- ``if init; cond {}`` (and ``switch init; x {}``) is two statements, the init's then the
  ``If``: spliced into the enclosing block, so ``if $E {...}`` still finds the ``If``;
- ``for`` with a clause (or a bare condition, or nothing) is ``ForC``, ``for k, v :=
  range xs`` is ``For(value "range")``; ``select`` is a ``Switch`` of value ``select``;
- ``go f()``, ``defer f()``, ``ch <- v``, ``goto`` and ``fallthrough`` stay ``Other``;
- an import path ``"a/b/c"`` is ``Dotted`` of the names ``a``, ``b``, ``c`` with value
  ``"/"``: an import pattern matches a path prefix (``import "foo"`` finds ``"foo/bar"``) and
  a ``"=~/re/"`` pattern the whole path; an alias ``import f "net/http"`` makes ``f`` stand
  for the package name Go users write, ``http`` (``import_path``);
- a method's receiver is its first ``Param``, of value ``receiver``;
- ``type T struct {...}`` (or ``interface``) is a ``ClassDef`` whose body is a ``Record``
  of the fields (``VarDef`` with the tag as a ``Str`` attribute) or method signatures
  (``FuncDef`` without body): matched in any order, more allowed, as semgrep's fields;
  other type declarations are ``TypeDef``.

In a pattern, a function written without a body (``func $F(...) $T``) matches any body, and
``OK: $X`` (a label in Go's grammar) is the keyed element ``Kwarg``.
"""

from __future__ import annotations

import re
from typing import Any

from indexer.match.lang.base import DOTS, rule
from indexer.match.lang.go_expr import GoExpressions
from indexer.match.node import Node, make

CASE_DOTS = re.compile(r"\bcase\s*\.\.\.(?!\s*:)")
IMPORT_BLOCK = re.compile(r"import\s*\(([^()]*)\)", re.S)
VERSION = re.compile(r"v[0-9]+")
GO_SUFFIX = re.compile(r"(.+)-go")
ANY_CASE = "<-" + DOTS  # what ``case ...`` is rewritten to: parses in switch and select


class GoConverter(GoExpressions):
    language = "go"
    NAMING = True
    SIMPLE = {
        **GoExpressions.SIMPLE,
        "source_file": ("Module", ("#",)),
        "expression_statement": ("ExprStmt", ("#0",)),
        "package_clause": ("Package", ("#0",)),
    }

    # ---- patterns: what Go's grammar cannot parse as written

    @classmethod
    def pattern_source(cls, text: str) -> str:
        """``case ...`` in a switch or select, and ``...`` lines in an import list."""
        text = CASE_DOTS.sub("case " + ANY_CASE + ":", text)
        return IMPORT_BLOCK.sub(_drop_dots_lines, text)

    # ---- blocks and simple statements

    @rule("block", "statement_list", makes="Block")
    def block(self, index: int) -> Node:
        return self.lazy("Block", index, self._statements)

    def _statements(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        out: list[int] = []
        for child in self.named(index):
            if tree.kind(child) == "statement_list":
                out.extend(self.named(child))
            else:
                out.append(child)
        return (self.nodes(out),)

    @rule("empty_statement", makes=())
    def empty(self, index: int) -> None:
        return None

    @rule("short_var_declaration", "assignment_statement", makes=("ExprStmt", "Assign"))
    def assignment(self, index: int) -> Node:
        return self.lazy("ExprStmt", index, self._assignment_statement)

    def _assignment_statement(self, index: int) -> tuple[Any, ...]:
        return (self.assign_expression(index),)

    def assign_expression(self, index: int) -> Node:
        """``a, b := f()``, ``x = 1`` or ``x += 1`` as an expression."""
        tree = self.tree
        operator = tree.child(index, "operator")
        op = self.text(operator) if operator is not None else ":="
        if tree.kind(index) == "short_var_declaration":
            op = ":="
        left = self.list_or_single(tree.child(index, "left"))
        right = self.list_or_single(tree.child(index, "right"))
        kind = "Assign" if op in ("=", ":=") else "AugAssign"
        return Node(kind, *self.span(index), op, (left, right), None, index)

    @rule("inc_statement", "dec_statement", makes=("ExprStmt", "UnOp"))
    def increment(self, index: int) -> Node:
        op = "++" if self.tree.kind(index) == "inc_statement" else "--"
        named = self.named(index)
        operand = make("UnOp", *self.span(index), self.node(named[0]) if named else None,
                       value=op)
        return make("ExprStmt", *self.span(index), operand)

    @rule("send_statement", makes=("ExprStmt", "Other"))
    def send(self, index: int) -> Node:
        parent = self.tree.parent(index)
        if parent >= 0 and self.tree.kind(parent) == "communication_case":
            return self.other(index)
        return make("ExprStmt", *self.span(index), self.other(index))

    @rule("receive_statement", makes="Assign")
    def receive(self, index: int) -> Node | None:
        tree = self.tree
        left = tree.child(index, "left")
        right = self.node(tree.child(index, "right"))
        if left is None:
            return right
        op = ":=" if any(tree.text(c) == ":=" for c in tree.children(index)) else "="
        return Node("Assign", *self.span(index), op, (self.list_or_single(left), right),
                    None, index)

    @rule("return_statement", makes="Return")
    def return_statement(self, index: int) -> Node:
        return self.lazy("Return", index, self._return)

    def _return(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.list_or_single(named[0]) if named else None,)

    @rule("break_statement", "continue_statement", makes=("Break", "Continue"))
    def jump(self, index: int) -> Node:
        kind = "Break" if self.tree.kind(index) == "break_statement" else "Continue"
        named = self.named(index)
        return make(kind, *self.span(index), self.node(named[0]) if named else None)

    @rule("labeled_statement", makes=("Label", "Kwarg"))
    def labeled(self, index: int) -> Node:
        tree = self.tree
        named = self.named(index)
        if self.pattern and len(named) == 2 and tree.kind(named[1]) == "expression_statement":
            value = self.inner(named[1])  # `OK: $X`: a keyed element
            return make("Kwarg", *self.span(index), self.node(named[0]), self.node(value))
        return self.lazy("Label", index, self._label)

    def _label(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        labelled = self.nodes(named[1:2])  # `L: if x := f(); c {}` is two statements
        statement = labelled[0] if len(labelled) == 1 else make(
            "Block", *self.span(named[1]), labelled) if labelled else None
        return self.node(named[0]), statement

    # ---- control flow

    @rule("if_statement", makes=("If", "ExprStmt"))
    def if_statement(self, index: int) -> Any:
        if_node = self.lazy("If", index, self._if)
        return self._with_initializer(index, if_node)

    def _with_initializer(self, index: int, statement: Node) -> Any:
        """``if init; cond {}``: the init's statement, then the statement (a splice)."""
        initializer = self.tree.child(index, "initializer")
        if initializer is None:
            return statement
        return self.nodes([initializer]) + (statement,)

    def _if(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        alternative = tree.child(index, "alternative")
        other = None
        if alternative is not None:
            found = self.nodes([alternative])
            other = found[0] if len(found) == 1 else make(
                "Block", *self.span(alternative), found)
        return (self.node(tree.child(index, "condition")),
                self.node(tree.child(index, "consequence")), other)

    @rule("for_statement", makes=("For", "ForC"))
    def for_statement(self, index: int) -> Node:
        tree = self.tree
        body = tree.child(index, "body")
        header = next((c for c in self.named(index) if c != body), None)
        if header is not None and tree.kind(header) == "range_clause":
            return self.lazy("For", index, self._for_range, "range")
        return self.lazy("ForC", index, self._for_clause)

    def _for_range(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        clause = next(c for c in self.named(index) if tree.kind(c) == "range_clause")
        return (self.list_or_single(tree.child(clause, "left")),
                self.node(tree.child(clause, "right")), self.node(tree.child(index, "body")),
                None)

    def _for_clause(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        body = tree.child(index, "body")
        header = next((c for c in self.named(index) if c != body), None)
        if header is None or tree.kind(header) != "for_clause":
            cond = self.node(header)
            if cond is not None and cond.kind == "Ellipsis":  # for ... {}: any header
                return cond, cond, cond, self.node(body)
            return None, cond, None, self.node(body)
        return (self._simple(tree.child(header, "initializer")),
                self.node(tree.child(header, "condition")),
                self._simple(tree.child(header, "update")), self.node(body))

    def _simple(self, index: int | None) -> Node | None:
        """A for clause's init or update, as an expression."""
        if index is None:
            return None
        if self.tree.kind(index) in ("short_var_declaration", "assignment_statement"):
            return self.assign_expression(index)
        found = self.node(index)
        if found is not None and found.kind == "ExprStmt":
            return found.kids[0]  # type: ignore[no-any-return]
        return found

    @rule("expression_switch_statement", "type_switch_statement", "select_statement",
          makes=("Switch", "ExprStmt"))
    def switch(self, index: int) -> Any:
        kind = self.tree.kind(index)
        flavour = {"type_switch_statement": "type", "select_statement": "select"}.get(kind)
        return self._with_initializer(index, self.lazy("Switch", index, self._switch, flavour))

    def _switch(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        subject = self.node(tree.child(index, "value"))
        alias = tree.child(index, "alias")
        if alias is not None and subject is not None:
            subject = make("Assign", *self.span(alias), self.list_or_single(alias), subject,
                           value=":=")
        cases = [c for c in self.named(index) if tree.kind(c).endswith("_case")]
        return subject, self.nodes(cases)

    @rule("expression_case", "type_case", "communication_case", "default_case",
          makes=("Case", "Ellipsis"))
    def case(self, index: int) -> Node:
        tree = self.tree
        if tree.kind(index) == "default_case":
            return self.lazy("Case", index, self._case, "default")
        values = self._case_values(index)
        if self.pattern and len(values) == 1 and self.text(values[0]) == ANY_CASE and \
                not self._case_body(index):
            return self.leaf("Ellipsis", index, None)
        return self.lazy("Case", index, self._case)

    def _case_values(self, index: int) -> list[int]:
        tree = self.tree
        out: list[int] = []
        for field in ("value", "type", "communication"):
            for child in tree.children_in(index, field):
                out.extend(self.named(child) if tree.kind(child) == "expression_list"
                           else [child])
        return out

    def _case_body(self, index: int) -> list[int]:
        tree = self.tree
        return [c for c in self.named(index) if tree.kind(c) == "statement_list"]

    def _case(self, index: int) -> tuple[Any, ...]:
        body = self._case_body(index)
        start, end = self.span(body[0]) if body else (self.tree.ends[index],) * 2
        statements = self.nodes(self.named(body[0])) if body else ()
        return self.nodes(self._case_values(index)), make("Block", start, end, statements)

    # ---- functions

    @rule("function_declaration", "method_declaration", "method_elem", makes="FuncDef")
    def function(self, index: int) -> Node:
        return self.lazy("FuncDef", index, self._function)

    def _function(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        params = self.params(tree.child(index, "parameters"))
        receiver = tree.child(index, "receiver")
        if receiver is not None:
            params = self.params(receiver, "receiver") + params
        body = self.node(tree.child(index, "body"))
        if body is None and self.pattern and tree.kind(index) != "method_elem":
            body = make("Ellipsis", *self.span(index))  # a signature: any body
        name = tree.child(index, "name")
        return (self.ident(name) if name is not None else None, params,
                self.results(tree.child(index, "result")), body, (), None)

    # ---- declarations

    @rule("var_declaration", "const_declaration", makes="VarDef")
    def declaration(self, index: int) -> tuple[Node, ...]:
        tree = self.tree
        word = "var" if tree.kind(index) == "var_declaration" else "const"
        specs: list[int] = []
        for child in self.named(index):
            specs.extend(self.named(child) if tree.kind(child) == "var_spec_list" else [child])
        out: list[Node] = []
        for spec in specs:
            out.extend(self._var_spec(spec, word, index if len(specs) == 1 else spec))
        return tuple(out)

    def _var_spec(self, spec: int, word: str, whole: int) -> list[Node]:
        """One VarDef per name; values paired with names when they are as many."""
        tree = self.tree
        names = tree.children_in(spec, "name")
        values_index = tree.child(spec, "value")
        values = self.nodes(self.named(values_index)) if values_index is not None else ()
        declared = self.node(tree.child(spec, "type"))
        span = self.span(whole if len(names) == 1 else spec)
        out = []
        for position, name in enumerate(names):
            value = values[position] if len(values) == len(names) else None
            attrs = (make("Modifier", span[0], span[0], value=word),)
            out.append(Node("VarDef", *span, None, (self.ident(name), declared, value, attrs),
                            None, spec))
        return out

    @rule("field_declaration", makes=("VarDef", "ExprStmt"))
    def field(self, index: int) -> Any:
        tree = self.tree
        names = tree.children_in(index, "name")
        declared = self.node(tree.child(index, "type"))
        tag = tree.child(index, "tag")
        attrs = self.nodes([tag]) if tag is not None else ()
        if not names and declared is not None and declared.kind == "Ellipsis":
            return make("ExprStmt", *self.span(index), declared)
        if not names:  # an embedded type
            spread = make("Spread", *self.span(index), declared, value="...")
            return make("ExprStmt", *self.span(index), spread)
        return tuple(Node("VarDef", *self.span(index), None,
                          (self.ident(name), declared, None, attrs), None, index)
                     for name in names)

    @rule("type_declaration", makes=("ClassDef", "TypeDef"))
    def type_declaration(self, index: int) -> tuple[Node, ...]:
        return self.nodes(self.named(index))

    @rule("type_spec", "type_alias", makes=("ClassDef", "TypeDef"))
    def type_spec(self, index: int) -> Node:
        tree = self.tree
        declared = tree.child(index, "type")
        kind = tree.kind(declared) if declared is not None else ""
        if kind in ("struct_type", "interface_type"):
            return self.lazy("ClassDef", index, self._class, kind.split("_")[0])
        flavour = "alias" if tree.kind(index) == "type_alias" else None
        return self.lazy("TypeDef", index, self._typedef, flavour)

    def _class(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        declared = tree.child(index, "type")
        assert declared is not None
        members: list[int] = []
        for child in self.named(declared):
            members.extend(self.named(child) if tree.kind(child) == "field_declaration_list"
                           else [child])
        body = make("Record", *self.span(declared), self.nodes(members))  # any order
        return self.ident(tree.child(index, "name")), (), (), body, (), None  # type: ignore[arg-type]

    def _typedef(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.ident(tree.child(index, "name")),  # type: ignore[arg-type]
                self.node(tree.child(index, "type")), None)

    @rule("struct_type", "interface_type", makes="Type")
    def anonymous_type(self, index: int) -> Node:
        word = self.tree.kind(index).split("_")[0]
        return self.lazy("Type", index, self._anonymous_type, word)

    def _anonymous_type(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        members: list[int] = []
        for child in self.named(index):
            members.extend(self.named(child) if tree.kind(child) == "field_declaration_list"
                           else [child])
        return None, self.nodes(members)

    # ---- imports

    @rule("import_declaration", makes=("ImportAs", "ImportAll"))
    def import_declaration(self, index: int) -> tuple[Node, ...]:
        tree = self.tree
        specs: list[int] = []
        for child in self.named(index):
            specs.extend(self.named(child) if tree.kind(child) == "import_spec_list"
                         else [child])
        return tuple(self._import(spec, tree.starts[index]) for spec in specs
                     if tree.kind(spec) == "import_spec")

    def _import(self, spec: int, start: int) -> Node:
        """One import, spanning from the ``import`` keyword (as semgrep reports it)."""
        tree = self.tree
        path = tree.child(spec, "path")
        module = self.path(path) if path is not None else make("Dotted", *self.span(spec), ())
        name = tree.child(spec, "name")
        end = tree.ends[spec]
        if name is not None and tree.kind(name) == "dot":
            return Node("ImportAll", start, end, None, (module,), None, spec)
        alias = self.ident(name) if name is not None else None
        return Node("ImportAs", start, end, None, (module, alias), None, spec)

    def path(self, index: int) -> Node:
        """An import path as a Dotted of its ``/``-separated names (see the module doc)."""
        text = self.string_value(index)
        if self.pattern and (text.startswith("=~/") or text.startswith("$")):
            part = self.leaf("Name", index, text)
            if text.startswith("$"):
                part = self.leaf("Metavar", index, text)
            return Node("Dotted", *self.span(index), "/", ((part,),), None, index)
        parts = tuple(self.leaf("Ellipsis", index, None) if self.pattern and piece == "..."
                      else self.leaf("Name", index, piece) for piece in text.split("/"))
        return Node("Dotted", *self.span(index), "/", (parts,), None, index)

    def import_path(self, module: Node | None) -> tuple[str, ...] | None:
        """What an aliased import's path stands for: the package name Go code uses."""
        if module is None or module.kind != "Dotted" or module.value != "/":
            return None
        names = [p.value for p in module.kids[0] if p.kind == "Name"]
        return (package_alias("/".join(names)),) if names else None


def package_alias(path: str) -> str:
    """The name a Go package is known by: the last path element, skipping a version
    (``.../youtube/v3`` is ``youtube``) and a ``-go`` suffix (``jwt-go`` is ``jwt``)."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return path
    base = parts[-1]
    if VERSION.match(base) and len(parts) > 1:
        return parts[-2]
    suffixed = GO_SUFFIX.match(base)
    return suffixed.group(1) if suffixed else base


def _drop_dots_lines(match: re.Match[str]) -> str:
    lines = [line for line in match.group(1).split("\n") if line.strip() != "..."]
    return "import (" + "\n".join(lines) + ")"

