"""tree-sitter-go expressions, literals and types to the normalized vocabulary.

What Go spells its own way, and how it comes out (semgrep's go_to_generic is the
reference):

- a selector ``a.b`` is ``Attr``; a package-qualified type ``http.Client`` too, so a
  composite literal's type and ``new(http.Client)``'s argument read alike;
- ``T{k: v, e}`` is ``New(T, args)``: a key that is an identifier makes a ``Kwarg`` (so
  fields match in any order), any other key a ``Pair``; nested braces are a list
  ``Container`` of the same elements;
- ``new(T)`` is ``&T{}`` (``UnOp("&", New(T))``), as semgrep's ``Ref(New)``; ``make(T, n)``
  stays a call whose first argument is the type;
- ``f(xs...)`` passes ``Spread("...", xs)``: never the pattern ellipsis;
- ``v.(T)`` and ``[]byte(x)`` stay ``Other`` (type assertion and conversion): a pattern
  ``x`` does not see through them, a ``$F(...)`` does not take them for calls;
- types are ``Name``/``Attr`` for named types and ``Type(None, args)`` for the others,
  the constructor as the value: ``*`` pointer, ``[]`` slice, ``array`` (length, element),
  ``map``, ``chan``, ``func`` (a ``Container("params")`` of parameters, and the result, a
  ``Type`` of value ``void`` when none); never a made-up ``Name``, which the prefilter
  would look for in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from indexer.match.lang.base import Converter, restore_placeholders, rule
from indexer.match.node import Node, make

ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                  "\\": "\\", "'": "'", '"': '"'}
CONSTRUCTORS = {"pointer_type": "*", "slice_type": "[]", "array_type": "array",
                "implicit_length_array_type": "array", "map_type": "map"}
TYPE_KINDS = frozenset({
    "type_identifier", "qualified_type", "pointer_type", "slice_type", "array_type",
    "implicit_length_array_type", "map_type", "channel_type", "function_type",
    "struct_type", "interface_type", "generic_type", "parenthesized_type", "negated_type",
    "type_elem", "type_constraint", "field_identifier", "package_identifier", "label_name"})


class GoExpressions(Converter):
    """Leaves, expressions and types (``GoConverter`` adds statements)."""

    language = "go"
    TRANSPARENT = frozenset({"parenthesized_expression", "parenthesized_type",
                             "literal_element"})
    SIMPLE = {
        "selector_expression": ("Attr", ("operand", "field")),
        "qualified_type": ("Attr", ("package", "name")),
        "index_expression": ("Subscript", ("operand", "index")),
    }

    # ---- leaves

    @rule("identifier", "field_identifier", "type_identifier", "package_identifier",
          "label_name", makes=("Name", "Metavar", "MetavarSeq", "Ellipsis", "TypedMetavar"))
    def identifier(self, index: int) -> Node:
        return self.ident(index)

    @rule("blank_identifier", "iota", makes="Name")
    def blank(self, index: int) -> Node:
        return self.leaf("Name", index, self.text(index))

    @rule("int_literal", "float_literal", "imaginary_literal", makes="Num")
    def number(self, index: int) -> Node:
        return self.leaf("Num", index, number_value(self.text(index)))

    @rule("true", "false", makes="Bool")
    def boolean(self, index: int) -> Node:
        return self.leaf("Bool", index, self.text(index) == "true")

    @rule("nil", makes="Null")
    def nil(self, index: int) -> Node:
        return self.leaf("Null", index, None)

    @rule("rune_literal", makes="Char")
    def rune(self, index: int) -> Node:
        return self.leaf("Char", index, decode(self.text(index)[1:-1]))

    @rule("interpreted_string_literal", "raw_string_literal", makes="Str")
    def string(self, index: int) -> Node:
        return self.leaf("Str", index, self.string_value(index))

    def string_value(self, index: int) -> str:
        """The decoded content of a string literal (placeholders restored in a pattern)."""
        raw = self.text(index)
        body = raw[1:-1] if len(raw) >= 2 else ""
        value = body if raw.startswith("`") else decode(body)
        return restore_placeholders(value) if self.pattern else value

    # ---- expressions

    @rule("binary_expression", makes="BinOp")
    def binary(self, index: int) -> Node:
        return self.lazy("BinOp", index, self._binary, self._operator(index))

    def _binary(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "left")), self.node(tree.child(index, "right"))

    def _operator(self, index: int) -> str:
        operator = self.tree.child(index, "operator")
        return self.text(operator) if operator is not None else "?"

    @rule("unary_expression", makes="UnOp")
    def unary(self, index: int) -> Node:
        return self.lazy("UnOp", index, self._operand, self._operator(index))

    def _operand(self, index: int) -> tuple[Any, ...]:
        return (self.node(self.tree.child(index, "operand")),)

    @rule("call_expression", makes=("Call", "UnOp"))
    def call(self, index: int) -> Node:
        tree = self.tree
        function = tree.child(index, "function")
        arguments = tree.child(index, "arguments")
        args = self.named(arguments) if arguments is not None else []
        if function is not None and self.text(function) == "new" and len(args) == 1:
            created = make("New", *self.span(index), self.node(args[0]), (), None)
            return make("UnOp", *self.span(index), created, value="&")
        return self.lazy("Call", index, self._call)

    def _call(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        arguments = tree.child(index, "arguments")
        args = self.nodes(self.named(arguments)) if arguments is not None else ()
        function = self.node(tree.child(index, "function"))
        if function is not None and function.kind == "Name" and function.value == "make" \
                and args:
            args = self.type_argument(args[0]) + args[1:]
        return function, args

    def type_argument(self, first: Node) -> tuple[Node, ...]:
        """``make``'s type, wrapped so that an expression metavariable does not take it
        (semgrep's ArgType); a pattern's ``make(..., $X)`` is a type then anything."""
        if first.kind == "Ellipsis":
            return make("Type", first.start, first.end, None, (first,), value="type"), first
        return (make("Type", first.start, first.end, None, (first,), value="type"),)

    @rule("variadic_argument", makes="Spread")
    def variadic(self, index: int) -> Node:
        return self.lazy("Spread", index, self._first, "...")

    def _first(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.node(named[0]) if named else None,)

    @rule("slice_expression", makes="Subscript")
    def slice_(self, index: int) -> Node:
        return self.lazy("Subscript", index, self._slice)

    def _slice(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        parts = [self.node(tree.child(index, f)) for f in ("start", "end", "capacity")]
        bounds = make("Slice", *self.span(index), *parts)
        return self.node(tree.child(index, "operand")), bounds

    @rule("composite_literal", makes="New")
    def composite(self, index: int) -> Node:
        return self.lazy("New", index, self._composite)

    def _composite(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        body = tree.child(index, "body")
        elements = self.nodes(self.named(body)) if body is not None else ()
        return self.node(tree.child(index, "type")), elements, None

    @rule("literal_value", makes="Container")
    def braces(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "list")

    def _elements(self, index: int) -> tuple[Any, ...]:
        return (self.nodes(self.named(index)),)

    @rule("keyed_element", makes=("Kwarg", "Pair"))
    def keyed(self, index: int) -> Node:
        tree = self.tree
        key = tree.child(index, "key")
        inner = self.inner(key) if key is not None else None
        if inner is not None and tree.kind(inner) == "identifier":
            return self.lazy("Kwarg", index, self._keyed)
        return self.lazy("Pair", index, self._keyed)

    def _keyed(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "key")), self.node(tree.child(index, "value"))

    @rule("func_literal", makes="Lambda")
    def func_literal(self, index: int) -> Node:
        return self.lazy("Lambda", index, self._lambda)

    def _lambda(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.params(tree.child(index, "parameters")), self.node(tree.child(index, "body"))

    @rule("expression_list", makes="Container")
    def expression_list(self, index: int) -> Node | None:
        return self.list_or_single(index)

    def list_or_single(self, index: int | None) -> Node | None:
        """One expression, or a tuple ``Container`` of several (``a, b := f()``)."""
        if index is None:
            return None
        named = self.named(index)
        if self.tree.kind(index) != "expression_list" or not named:
            return self.node(index)
        if len(named) == 1:
            return self.node(named[0])
        return self.lazy("Container", index, self._elements, "tuple")

    # ---- parameters

    def params(self, index: int | None, flavour: str = "") -> tuple[Node, ...]:
        """A parameter list, one ``Param`` per name (``a, b int`` is two)."""
        if index is None:
            return ()
        out: list[Node] = []
        for child in self.named(index):
            out.extend(self.param(child, flavour))
        return tuple(out)

    def param(self, index: int, flavour: str = "") -> list[Node]:
        tree = self.tree
        kind = tree.kind(index)
        if kind == "variadic_parameter_declaration":
            flavour = "..."
        elif kind != "parameter_declaration":
            found = self.node(index)
            return [found] if found is not None else []
        type_index = tree.child(index, "type")
        names = tree.children_in(index, "name")
        kind_type = self.node(type_index)
        if not names and kind_type is not None and kind_type.kind in (
                "Ellipsis", "MetavarSeq") and not flavour:
            return [kind_type]  # func f(...) in a pattern
        if not names:
            return [Node("Param", *self.span(index), flavour, (None, kind_type, None, ()),
                         None, index)]
        out = []
        for name in names:
            bare = self.ident(name)
            out.append(bare if bare.kind == "Ellipsis" else Node(
                "Param", *self.span(index), flavour, (bare, kind_type, None, ()), None, index))
        return out  # `..., $A T`: the grammar reads `...` as one more name of type T

    def results(self, index: int | None) -> Node | None:
        """A function's result: none, one type, or a tuple ``Container`` of the types."""
        if index is None:
            return None
        if self.tree.kind(index) != "parameter_list":
            return self.node(index)
        types = [p.kids[1] if p.kind == "Param" else p for p in self.params(index)]
        types = [t for t in types if t is not None]
        if not types:
            return None
        if len(types) == 1:
            return types[0]
        return make("Container", *self.span(index), tuple(types), value="tuple")

    # ---- types

    @rule("pointer_type", "slice_type", "array_type", "implicit_length_array_type",
          "map_type", makes="Type")
    def compound_type(self, index: int) -> Node:
        return self.lazy("Type", index, self._type_parts, CONSTRUCTORS[self.tree.kind(index)])

    def _type_parts(self, index: int) -> tuple[Any, ...]:
        return None, self.nodes(self.named(index))

    @rule("channel_type", makes="Type")
    def channel(self, index: int) -> Node:
        tree = self.tree
        words = "".join(tree.text(c) for c in tree.children(index) if not tree.is_named(c))
        return self.lazy("Type", index, self._type_parts, words)

    @rule("generic_type", makes="Type")
    def generic(self, index: int) -> Node:
        return self.lazy("Type", index, self._generic)

    def _generic(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        arguments = tree.child(index, "type_arguments")
        args = self.nodes(self.named(arguments)) if arguments is not None else ()
        return self.node(tree.child(index, "type")), args

    @rule("function_type", makes="Type")
    def function_type(self, index: int) -> Node:
        return self.lazy("Type", index, self._function_type, "func")

    def _function_type(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        params = tree.child(index, "parameters")
        listed = make("Container", *self.span(params if params is not None else index),
                      self.params(params), value="params")
        result = self.results(tree.child(index, "result"))
        if result is None:
            end = self.tree.ends[index]
            result = make("Type", end, end, None, (), value="void")
        return None, (listed, result)

    # ---- what types expressions have

    def expression_type(self, node: Node, type_of: Callable[[Node], Node | None]
                        ) -> Node | None:
        """``&e`` points to e's type, ``make(T, ...)`` and ``[]T(x)`` are of type T."""
        kind, kids = node.kind, node.kids
        if kind == "UnOp" and node.value == "&" and kids[0] is not None:
            inner = type_of(kids[0])
            return make("Type", node.start, node.end, None, (inner,), value="*") \
                if inner is not None else None
        if kind == "Call" and kids[0] is not None and kids[0].kind == "Name" and \
                kids[0].value == "make" and kids[1] and kids[1][0].kind == "Type":
            return kids[1][0].kids[1][0]  # type: ignore[no-any-return]
        if kind == "Other" and node.value[0] == "type_conversion_expression" and kids[0]:
            return kids[0][0]  # type: ignore[no-any-return]
        return None

    # ---- where an identifier is not an expression

    NON_EXPRESSION = frozenset({
        ("function_declaration", "name"), ("method_declaration", "name"),
        ("parameter_declaration", "name"), ("variadic_parameter_declaration", "name"),
        ("var_spec", "name"), ("const_spec", "name"), ("field_declaration", "name"),
        ("type_spec", "name"), ("type_alias", "name"), ("method_elem", "name"),
        ("import_spec", "*"), ("package_clause", "*"), ("labeled_statement", "label"),
        ("break_statement", "*"), ("continue_statement", "*"), ("goto_statement", "*"),
        ("type_parameter_declaration", "*")})

    def in_expression(self, index: int) -> bool:
        """Types, field names, labels and declared names are not expressions."""
        if self.tree.kind(index) in TYPE_KINDS:
            return False
        return super().in_expression(index)


def decode(body: str) -> str:
    """A Go string or rune literal's body with its escapes decoded."""
    if "\\" not in body:
        return body
    return ESCAPE.sub(_escape, body)


def _escape(match: re.Match[str]) -> str:
    text = match.group(0)[1:]
    if text in SIMPLE_ESCAPES:
        return SIMPLE_ESCAPES[text]
    if text[0] in "xuU":
        return chr(int(text[1:], 16))
    if text[0] in "01234567" and len(text) == 3:
        return chr(int(text, 8))
    return match.group(0)


def number_value(text: str) -> Any:
    """The value of a Go numeric literal (``0x10``, ``0o20``, ``020`` and ``16`` agree)."""
    cleaned = text.replace("_", "")
    try:
        if cleaned.endswith("i"):
            return complex(0, float(number_value(cleaned[:-1])))
        lowered = cleaned.lower()
        if lowered.startswith(("0x", "0o", "0b")):
            if lowered.startswith("0x") and "p" in lowered:
                return float.fromhex(cleaned)
            return int(cleaned, 0)
        if any(c in lowered for c in ".e"):
            return float(cleaned)
        if len(cleaned) > 1 and cleaned[0] == "0":
            return int(cleaned, 8)
        return int(cleaned)
    except (ValueError, TypeError):
        return text
