"""tree-sitter-javascript, -typescript and -tsx statements and declarations to the
normalized vocabulary (expressions: js_expressions.py), one converter for the three grammars
(TypeScript's extends JavaScript's; JSX is in javascript and tsx).

- ``var``/``let``/``const`` declarations are one ``VarDef(name, type, value, (Modifier,))``
  per declarator (spliced); a ``var`` pattern matches all three (equiv.values_agree).
  Destructuring targets are ``Record``/``Container`` patterns.
- imports and ``require``: js_modules.py. Variables are told apart by the function declaring
  them (js_scopes.py).
- ``export`` is transparent: the exported declaration, spanning the ``export`` keyword and
  carrying its decorators.
- class bodies are ``Block``s of members: methods ``FuncDef``, fields ``VarDef``, decorators
  and modifiers (``static``, ``async``, ``private``, ``export``...) in ``attrs``.
- patterns: the text handling (partial constructs, spellings) is in js_patterns.py.
"""

from __future__ import annotations

from typing import Any

from indexer.match.lang import js_patterns
from indexer.match.lang.base import DOTS, rule
from indexer.match.lang.js_modules import DECLARATIONS, JsModuleConverter
from indexer.match.lang.js_patterns import PARTIAL
from indexer.match.lang.js_scopes import Scopes
from indexer.match.node import Node, make

SCOPED = frozenset({"identifier", "shorthand_property_identifier",
                    "shorthand_property_identifier_pattern"})
MEMBER_MODIFIERS = frozenset({"static", "async", "get", "set", "*", "readonly", "abstract",
                              "declare", "override"})
TYPE_KINDS = frozenset({
    "type_annotation", "type_arguments", "type_parameters", "type_parameter", "generic_type",
    "union_type", "intersection_type", "array_type", "tuple_type", "predefined_type",
    "type_identifier", "nested_type_identifier", "literal_type", "function_type",
    "object_type", "parenthesized_type", "lookup_type", "index_type_query", "type_query",
    "conditional_type", "readonly_type", "optional_type", "rest_type", "constructor_type",
    "type_predicate", "type_predicate_annotation", "existential_type", "this_type",
    "template_literal_type", "infer_type", "mapped_type_clause", "constraint", "default_type",
    "implements_clause", "extends_type_clause"})


class JavascriptConverter(JsModuleConverter):
    language = "javascript"
    ABSORBING = frozenset({
        "function_declaration", "generator_function_declaration", "function_signature",
        "method_definition", "method_signature", "abstract_method_signature",
        "field_definition", "public_field_definition", "property_signature",
        "class_declaration", "class", "abstract_class_declaration"})
    scopes: Scopes | None = None  # made on first use
    NON_EXPRESSION = frozenset({
        ("member_expression", "property"), ("function_declaration", "name"),
        ("generator_function_declaration", "name"), ("class_declaration", "name"),
        ("method_definition", "name"), ("formal_parameters", "*"), ("pair", "key"),
        ("pair_pattern", "key"), ("import_specifier", "*"), ("import_clause", "*"),
        ("namespace_import", "*"), ("export_specifier", "*"), ("labeled_statement", "label"),
        ("break_statement", "label"), ("continue_statement", "label"),
        ("field_definition", "property"), ("public_field_definition", "name"),
        ("variable_declarator", "name"), ("required_parameter", "pattern"),
        ("optional_parameter", "pattern"), ("jsx_attribute", "*"), ("jsx_opening_element", "name"),
        ("jsx_closing_element", "name"), ("jsx_self_closing_element", "name"),
        ("catch_clause", "parameter"), ("function_expression", "name"),
        ("arrow_function", "parameter"), ("object_pattern", "*"), ("array_pattern", "*"),
        ("rest_pattern", "*"), ("assignment_pattern", "left"), ("type_annotation", "*"),
        ("class", "name"), ("abstract_class_declaration", "name")})
    SIMPLE = {
        **JsModuleConverter.SIMPLE,
        "program": ("Module", ("#",)),
        "statement_block": ("Block", ("#",)),
        "class_body": ("Block", ("#",)),
        "while_statement": ("While", ("condition", "body", "")),
        "do_statement": ("DoWhile", ("body", "condition")),
        "throw_statement": ("Throw", ("#0", "")),
        "break_statement": ("Break", ("label",)),
        "continue_statement": ("Continue", ("label",)),
        "labeled_statement": ("Label", ("label", "body")),
        "switch_statement": ("Switch", ("value", "body*")),
    }

    def in_expression(self, index: int) -> bool:
        """As the base says, and never in a type (``Record<string, T>`` holds no
        expression)."""
        tree = self.tree
        if tree.kind(index) in TYPE_KINDS:
            return False
        parent = tree.parent(index)
        if parent >= 0 and tree.kind(parent) in TYPE_KINDS:
            return False
        return super().in_expression(index)

    # ---- statements

    @rule("expression_statement", makes="ExprStmt")
    def expression_statement(self, index: int) -> Node:
        return self.lazy("ExprStmt", index, self._first)

    @rule("hash_bang_line", makes=())
    def hash_bang(self, index: int) -> None:
        return None

    @rule("return_statement", makes="Return")
    def return_(self, index: int) -> Node:
        return self.lazy("Return", index, self._first)

    @rule("if_statement", makes="If")
    def if_statement(self, index: int) -> Node:
        return self.lazy("If", index, self._if)

    def _if(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        other = tree.child(index, "alternative")
        return (self.node(tree.child(index, "condition")),
                self.body(tree.child(index, "consequence")),
                self.body(self.inner(other) if other is not None else None))

    def body(self, index: int | None) -> Node | None:
        """A branch; in a pattern, a bare ``...`` branch is the block ``{ ... }``."""
        found = self.node(index)
        if self.pattern and found is not None and found.kind == "ExprStmt" and \
                found.kids[0] is not None and found.kids[0].kind == "Ellipsis":
            return make("Block", found.start, found.end, (found,))
        return found

    @rule("for_statement", makes="ForC")
    def for_statement(self, index: int) -> Node:
        return self.lazy("ForC", index, self._for_c)

    def _for_c(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        parts = [self.clause(tree.child(index, field))
                 for field in ("initializer", "condition", "increment")]
        return (*parts, self.node(tree.child(index, "body")))

    def clause(self, index: int | None) -> Node | None:
        """A ``for (;;)`` clause: an expression statement is its expression."""
        if index is None or self.tree.kind(index) == "empty_statement":
            return None
        found = self.node(index)
        if found is not None and found.kind == "ExprStmt":
            return found.kids[0]  # type: ignore[no-any-return]
        return found

    @rule("for_in_statement", makes="For")
    def for_in(self, index: int) -> Node:
        tree = self.tree
        operator = tree.child(index, "operator")
        flavour = self.text(operator) if operator is not None else "in"
        return self.lazy("For", index, self._for_in, flavour)

    def _for_in(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.node(tree.child(index, "left")), self.node(tree.child(index, "right")),
                self.node(tree.child(index, "body")), None)

    @rule("switch_case", "switch_default", makes="Case")
    def case(self, index: int) -> Node:
        default = self.tree.kind(index) == "switch_default"
        return self.lazy("Case", index, self._case, "default" if default else None)

    def _case(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        value = tree.child(index, "value")
        statements = self.nodes(tree.children_in(index, "body"))
        start = statements[0].start if statements else tree.ends[index]
        block = make("Block", start, tree.ends[index], statements)
        return (self.node(value),) if value is not None else (), block

    @rule("try_statement", makes="Try")
    def try_statement(self, index: int) -> Node:
        return self.lazy("Try", index, self._try)

    def _try(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        handler = tree.child(index, "handler")
        final = tree.child(index, "finalizer")
        final_body = self.node(tree.child(final, "body")) if final is not None else None
        handlers = self.nodes([handler]) if handler is not None else ()
        body = self.node(tree.child(index, "body"))
        if self.pattern and final is not None and body is not None and self.is_partial(body):
            # ``finally { ... }`` alone: the clause, as code's finally clauses are searched
            return body, (), None, self.node(final)
        if self.pattern and (final_body is None and not handlers or final_body is not None
                             and self.is_partial(final_body)):
            # ``try { ... }`` alone: any handlers, any finally
            start, end = self.span(index)
            return self.node(tree.child(index, "body")), (make("Ellipsis", start, end),), None, \
                None
        return self.node(tree.child(index, "body")), handlers, None, final_body

    def is_partial(self, block: Node) -> bool:
        statements = block.kids[0]
        return len(statements) == 1 and statements[0].kind == "ExprStmt" and \
            statements[0].kids[0] is not None and statements[0].kids[0].kind == "Name" and \
            statements[0].kids[0].value == PARTIAL

    @rule("catch_clause", makes="Catch")
    def catch(self, index: int) -> Node:
        return self.lazy("Catch", index, self._catch)

    def _catch(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        parameter = tree.child(index, "parameter")
        if parameter is None:  # catch { }: an anonymous parameter ($E matches it)
            keyword = tree.children(index)[0]
            name: Node | None = self.leaf("Name", keyword, "_")
        else:
            name = self.node(parameter)
        return self.node(tree.child(index, "type")), name, self.node(tree.child(index, "body"))

    @rule("finally_clause", makes="Other")
    def finally_clause(self, index: int) -> Node:
        """A finally clause found on its own (a ``finally { ... }`` pattern); a Try holds
        the block itself."""
        body = self.node(self.tree.child(index, "body"))
        return make("Other", *self.span(index), (body,) if body is not None else (),
                    value=("finally_clause", ("finally",)))

    @rule("else_clause", makes="Block")
    def clause_body(self, index: int) -> Node | None:
        inner = self.tree.child(index, "body")
        if inner is None:
            inner = self.inner(index)
        return self.node(inner) if inner is not None else self.other(index)

    # ---- declarations

    @rule(*DECLARATIONS, makes=("VarDef", "ImportFrom", "ImportAs"))
    def declaration(self, index: int) -> Node | tuple[Node, ...]:
        tree = self.tree
        keyword = tree.child(index, "kind")
        if keyword is None:
            keyword = tree.children(index)[0]
        declarators = [c for c in self.named(index) if tree.kind(c) == "variable_declarator"]
        start, end = self.outer_span(index)
        if len(declarators) == 1:
            return Node("VarDef", start, end, None, None,
                        lambda i: self._declarator(i, keyword), declarators[0])
        return tuple(Node("VarDef", start if n == 0 else tree.starts[d], tree.ends[d], None,
                          None, lambda i: self._declarator(i, keyword), d)
                     for n, d in enumerate(declarators))

    def _declarator(self, index: int, keyword: int) -> tuple[Any, ...]:
        tree = self.tree
        modifier = self.leaf("Modifier", keyword, self.text(keyword))
        declaration = tree.parent(index)
        return (self.node(tree.child(index, "name")), self.node(tree.child(index, "type")),
                self.node(tree.child(index, "value")),
                (modifier, *self.export_modifier(declaration)))

    def outer_span(self, index: int) -> tuple[int, int]:
        """A declaration's span, from the ``export`` keyword when it is exported."""
        tree = self.tree
        parent = tree.parent(index)
        if parent >= 0 and tree.kind(parent) == "export_statement":
            return tree.starts[parent], tree.ends[index]
        return self.span(index)

    def export_modifier(self, index: int) -> tuple[Node, ...]:
        parent = self.tree.parent(index)
        if parent < 0 or self.tree.kind(parent) != "export_statement":
            return ()
        return (self.leaf("Modifier", self.tree.children(parent)[0], "export"),)

    def outer_decorators(self, index: int) -> tuple[Node, ...]:
        """Decorators written before ``export``, or before a member in a TypeScript class
        body (where they are the member's siblings)."""
        tree = self.tree
        parent = tree.parent(index)
        if parent < 0:
            return ()
        if tree.kind(parent) == "export_statement":
            return self.nodes(tree.children_in(parent, "decorator"))
        if tree.kind(parent) != "class_body":
            return ()
        siblings = self.named(parent)
        position = siblings.index(index)
        first = position
        while first > 0 and tree.kind(siblings[first - 1]) == "decorator":
            first -= 1
        return self.nodes(siblings[first:position])

    @rule("function_declaration", "generator_function_declaration", "function_signature",
          makes="FuncDef")
    def function(self, index: int) -> Node:
        start, end = self.outer_span(index)
        return Node("FuncDef", start, end, None, None, self._function, index)

    def _function(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        attrs = self.outer_decorators(index) + self.nodes(
            tree.children_in(index, "decorator")) + self.modifiers(index)
        body = self.node(tree.child(index, "body"))
        if body is None and self.pattern:  # a method pattern without a body: any body
            start, end = self.span(index)
            body = make("Block", start, end, (make("ExprStmt", start, end,
                                                    make("Ellipsis", start, end)),))
        return (self.key(tree.child(index, "name")), self.params(tree.child(index, "parameters")),
                self.return_type(index), body, attrs, self.type_parameters(index))

    def return_type(self, index: int) -> Node | None:
        """The declared return type; JavaScript's grammar leaves ``(): T`` as an error."""
        tree = self.tree
        found = tree.child(index, "return_type")
        if found is not None:
            return self.node(found)
        for child in tree.children(index):
            if tree.kind(child) == "ERROR":
                kids = tree.children(child)
                if len(kids) == 2 and tree.text(kids[0]) == ":":
                    return self.node(kids[1])
        return None

    def type_parameters(self, index: int) -> tuple[Node, ...]:
        found = self.tree.child(index, "type_parameters")
        return self.nodes(self.named(found)) if found is not None else ()

    def modifiers(self, index: int) -> tuple[Node, ...]:
        """Keyword modifiers (``static``, ``async``, ``private``...), ``export`` for an
        exported declaration."""
        tree = self.tree
        out = list(self.export_modifier(index))
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind in ("accessibility_modifier", "override_modifier"):
                out.append(self.leaf("Modifier", child, self.text(child)))
            elif not tree.is_named(child) and tree.text(child) in MEMBER_MODIFIERS:
                out.append(self.leaf("Modifier", child, tree.text(child)))
        return tuple(out)

    @rule("method_definition", "method_signature", "abstract_method_signature",
          makes=("FuncDef", "Ellipsis"))
    def method(self, index: int) -> Node:
        decorators = self.outer_decorators(index)
        start = decorators[0].start if decorators else self.tree.starts[index]
        return Node("FuncDef", start, self.tree.ends[index], None, None, self._function, index)

    @rule("field_definition", "public_field_definition", "property_signature",
          makes=("VarDef", "Ellipsis"))
    def field(self, index: int) -> Node:
        tree = self.tree
        name = tree.child(index, "property") or tree.child(index, "name")
        if self.pattern and name is not None and tree.text(name) == DOTS:
            return self.leaf("Ellipsis", index, None)
        decorators = self.outer_decorators(index)
        start = decorators[0].start if decorators else tree.starts[index]
        return Node("VarDef", start, tree.ends[index], None, None, self._field, index)

    def _field(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        name = tree.child(index, "property") or tree.child(index, "name")
        attrs = self.outer_decorators(index) + self.nodes(
            tree.children_in(index, "decorator")) + self.modifiers(index)
        return (self.key(name), self.node(tree.child(index, "type")),
                self.node(tree.child(index, "value")), attrs)

    @rule("class_declaration", "class", "abstract_class_declaration", makes="ClassDef")
    def class_(self, index: int) -> Node:
        start, end = self.outer_span(index)
        return Node("ClassDef", start, end, "class", None, self._class, index)

    def _class(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        bases: list[int] = []
        impls: list[int] = []
        for heritage in (c for c in self.named(index) if tree.kind(c) == "class_heritage"):
            for part in self.named(heritage):
                if tree.kind(part) == "extends_clause":
                    bases.extend(tree.children_in(part, "value"))
                elif tree.kind(part) == "implements_clause":
                    impls.extend(self.named(part))
                else:
                    bases.append(part)
        attrs = self.outer_decorators(index) + self.nodes(
            c for c in tree.children(index) if tree.kind(c) == "decorator") + self.modifiers(index)
        body = tree.child(index, "body")
        return (self.node(tree.child(index, "name")), self.nodes(bases), self.nodes(impls),
                self.class_body(body) if body is not None else None, attrs,
                self.type_parameters(index))

    def class_body(self, index: int) -> Node:
        members = [c for c in self.named(index) if self.tree.kind(c) != "decorator"]
        return make("Block", *self.span(index), self.nodes(members))

    # ---- modules

    @rule("export_statement", makes=("FuncDef", "ClassDef", "VarDef", "ExprStmt"))
    def export(self, index: int) -> Node | tuple[Node, ...] | None:
        tree = self.tree
        declaration = tree.child(index, "declaration")
        if declaration is not None:
            found = self.nodes([declaration])
            return found if len(found) != 1 else found[0]
        value = tree.child(index, "value")
        if value is not None:
            return make("ExprStmt", *self.span(index), self.node(value))
        return self.other(index)

    def declaring_scope(self, name: Node) -> int | None:
        """The function that declares a variable use (see js_scopes.py); None for property
        names and made-up nodes."""
        if name.kind != "Name" or name.raw < 0 or self.tree.kind(name.raw) not in SCOPED:
            return None
        if self.scopes is None:
            self.scopes = Scopes(self.tree)
        return self.scopes.declaring(name.raw, str(name.value))

    # ---- patterns

    @classmethod
    def pattern_wrappers(cls, text: str) -> list[tuple[str, str]]:
        return js_patterns.wrappers(text)

    @classmethod
    def pattern_grammars(cls, language: str) -> tuple[str, ...]:
        """A JavaScript or TypeScript pattern may use JSX and type annotations (as semgrep
        parses both with one grammar): the TSX grammar is tried after the language's."""
        return (language,) if language == "tsx" else (language, "tsx")

    @classmethod
    def pattern_source(cls, text: str) -> str:
        return js_patterns.source(text)

    @classmethod
    def spellings(cls, spellings: list[str]) -> list[str]:
        """Also JavaScript's own spelling of the last (``${...}``, ``for (...)``, JSX
        attribute holes, spreads...)."""
        return list(dict.fromkeys(spellings + js_patterns.spellings(spellings[-1])))


class TypescriptConverter(JavascriptConverter):
    language = "typescript"


class TsxConverter(JavascriptConverter):
    language = "tsx"
