"""tree-sitter-java to the normalized vocabulary: the converter, its leaves and expressions.

Statements are in ``java_stmts.py``, declarations (classes, methods, fields, modifiers,
annotations, imports) and types in ``java_defs.py``, expression types in ``java_types.py``,
constant fields in ``java_fields.py``. As semgrep's ``java_to_generic``: ``o.m(x)`` is
Call(Attr(o, m), [x]), ``new C(x)`` is New, ``this`` and ``super`` are names.
"""

from __future__ import annotations

from typing import Any

from indexer.match.lang.base import DOTS, restore_placeholders, rule
from indexer.match.lang.java_fields import FieldConstants
from indexer.match.lang.java_stmts import JavaStatements
from indexer.match.lang.java_types import JavaTyping, alternatives, builtin
from indexer.match.node import Node, make, span_of

PRIMITIVE_TYPES = frozenset({"integral_type", "floating_point_type", "boolean_type", "void_type"})
ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "s": " ", '"': '"',
           "'": "'", "\\": "\\"}


class JavaConverter(JavaStatements):
    language = "java"
    TRANSPARENT = frozenset({"parenthesized_expression"})
    WILDCARDS_QUALIFY = True
    TYPE_KINDS = frozenset({"type_identifier", "scoped_type_identifier", "generic_type"})
    NON_EXPRESSION = frozenset({
        ("method_invocation", "name"), ("field_access", "field"),
        ("method_declaration", "name"), ("constructor_declaration", "name"),
        ("class_declaration", "name"), ("interface_declaration", "name"),
        ("enum_declaration", "name"), ("record_declaration", "name"),
        ("annotation_type_declaration", "name"), ("variable_declarator", "name"),
        ("formal_parameter", "name"), ("catch_formal_parameter", "name"),
        ("enhanced_for_statement", "name"), ("resource", "name"), ("enum_constant", "name"),
        ("element_value_pair", "key"), ("import_declaration", "*"),
        ("package_declaration", "*"), ("scoped_identifier", "*"),
        ("marker_annotation", "name"), ("annotation", "name"), ("labeled_statement", "*"),
        ("break_statement", "*"), ("continue_statement", "*"), ("inferred_parameters", "*"),
        ("lambda_expression", "parameters"), ("method_reference", "*"),
        ("type_parameter", "*"), ("spread_parameter", "*"), ("instanceof_expression", "name"),
    })
    SIMPLE = {
        "program": ("Module", ("#",)),
        "block": ("Block", ("#",)),
        "constructor_body": ("Block", ("#",)),
        "field_access": ("Attr", ("object", "field")),
        "array_access": ("Subscript", ("array", "index")),
        "ternary_expression": ("IfExp", ("condition", "consequence", "alternative")),
        "return_statement": ("Return", ("#0",)),
        "throw_statement": ("Throw", ("#0", "")),
        "break_statement": ("Break", ("#0",)),
        "continue_statement": ("Continue", ("#0",)),
        "while_statement": ("While", ("condition", "body", "")),
        "do_statement": ("DoWhile", ("body", "condition")),
        "labeled_statement": ("Label", ("#0", "#1")),
        "assert_statement": ("Assert", ("#",)),
    }

    # ---- what the matcher asks of the language

    def in_expression(self, index: int) -> bool:
        """Primitive types are not expressions (named types are, for name patterns only:
        ``TYPE_KINDS``); a declared name is one when it is initialized (semgrep sees
        ``T x = e`` as ``x = e`` too)."""
        tree = self.tree
        if tree.kind(index) in PRIMITIVE_TYPES:
            return False  # `int`, `void`: keywords, not names
        parent = tree.parent(index)
        if parent >= 0 and tree.kind(parent) == "variable_declarator" and \
                tree.field_of(index) == "name":
            return tree.child(parent, "value") is not None
        return super().in_expression(index)

    def infer_type(self, node: Node, facts: Any) -> Node | None:
        typing = self.__dict__.get("_typing")
        if typing is None:
            typing = self.__dict__["_typing"] = JavaTyping(self, facts)
        found: Node | None = typing.type_of(node)
        return found

    def outer_constant(self, node: Node, constants: Any) -> Node | None:
        fields = self.__dict__.get("_fields")
        if fields is None:
            fields = self.__dict__["_fields"] = FieldConstants(self)
        found: Node | None = fields.value(node)
        return found

    def type_alternatives(self, known: Node) -> list[Node]:
        return alternatives(known)

    def builtin_type(self, kind: Node) -> str | None:
        return builtin(kind)

    # ---- leaves

    @rule("identifier", "type_identifier",
          makes=("Name", "Metavar", "MetavarSeq", "Ellipsis", "TypedMetavar"))
    def identifier(self, index: int) -> Node:
        return self.ident(index)

    @rule("this", "super", makes="Name")
    def special(self, index: int) -> Node:
        return self.leaf("Name", index, self.text(index))

    @rule("decimal_integer_literal", "hex_integer_literal", "octal_integer_literal",
          "binary_integer_literal", "decimal_floating_point_literal",
          "hex_floating_point_literal", makes="Num")
    def number(self, index: int) -> Node:
        return self.leaf("Num", index, number_value(self.text(index)))

    @rule("true", "false", makes="Bool")
    def boolean(self, index: int) -> Node:
        return self.leaf("Bool", index, self.text(index) == "true")

    @rule("null_literal", makes="Null")
    def null(self, index: int) -> Node:
        return self.leaf("Null", index, None)

    @rule("character_literal", makes="Char")
    def character(self, index: int) -> Node:
        return self.leaf("Char", index, decode(self.text(index)[1:-1]))

    @rule("string_literal", makes=("Str", "Interp"))
    def string(self, index: int) -> Node:
        tree = self.tree
        pieces = []
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind in ("string_fragment", "multiline_string_fragment"):
                pieces.append(tree.text(child))
            elif kind == "escape_sequence":
                pieces.append(decode(tree.text(child)))
        text = "".join(pieces)
        if self.text(index).startswith('"""'):
            text = text_block(text)
        return self.leaf("Str", index, restore_placeholders(text) if self.pattern else text)

    # ---- expressions

    @rule("method_invocation", makes="Call")
    def method_invocation(self, index: int) -> Node:
        return self.lazy("Call", index, self._invocation)

    def _invocation(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        name = self.node(tree.child(index, "name"))
        obj_index = tree.child(index, "object")
        func = name
        if obj_index is not None:
            obj = self.node(obj_index)
            if any(tree.kind(c) == "super" for c in tree.children(index)):  # C.super.m()
                obj = make("Attr", *span_of(obj), obj, make("Name", -1, -1, value="super"))
            func = make("Attr", tree.starts[index], name.end if name else -1, obj, name)
        return func, self.arguments(tree.child(index, "arguments"))

    def arguments(self, index: int | None) -> tuple[Node, ...]:
        return self.nodes(self.named(index)) if index is not None else ()

    @rule("explicit_constructor_invocation", makes="Call")
    def constructor_call(self, index: int) -> Node:
        return self.lazy("Call", index, self._constructor_call)

    def _constructor_call(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        func = self.node(tree.child(index, "constructor"))
        obj = tree.child(index, "object")
        if obj is not None and func is not None:
            func = make("Attr", *span_of(self.node(obj), func), self.node(obj), func)
        return func, self.arguments(tree.child(index, "arguments"))

    @rule("object_creation_expression", makes="New")
    def new(self, index: int) -> Node:
        return self.lazy("New", index, self._new)

    def _new(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        body = next((c for c in tree.children(index) if tree.kind(c) == "class_body"), None)
        return (self.node(tree.child(index, "type")),
                self.arguments(tree.child(index, "arguments")),
                self.node(body) if body is not None else None)

    @rule("array_creation_expression", makes="New")
    def new_array(self, index: int) -> Node:
        return self.lazy("New", index, self._new_array)

    def _new_array(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        element = self.node(tree.child(index, "type"))
        sizes: list[Node] = []
        for child in tree.children_in(index, "dimensions"):
            if tree.kind(child) == "dimensions_expr":
                sizes.extend(self.nodes(self.named(child)))
                element = make("Type", *self.span(child), element, (), value="[]")
            else:
                for _ in range(tree.text(child).count("[")):
                    element = make("Type", *self.span(child), element, (), value="[]")
        value = self.node(tree.child(index, "value"))
        if value is not None:
            sizes.insert(0, value)
        return element, tuple(sizes), None

    @rule("array_initializer", "element_value_array_initializer", makes="Container")
    def array_initializer(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "array")

    def _elements(self, index: int) -> tuple[Any, ...]:
        return (self.nodes(self.named(index)),)

    @rule("assignment_expression", makes=("Assign", "AugAssign"))
    def assignment(self, index: int) -> Node:
        operator = self.text(self.tree.child(index, "operator") or index)
        if operator == "=":
            return self.lazy("Assign", index, self._assign, "=")
        return self.lazy("AugAssign", index, self._assign, operator)

    def _assign(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "left")), self.node(tree.child(index, "right"))

    @rule("binary_expression", makes="BinOp")
    def binary(self, index: int) -> Node:
        operator = self.tree.child(index, "operator")
        op = self.text(operator) if operator is not None else "?"
        return self.lazy("BinOp", index, self._assign, op)

    @rule("instanceof_expression", makes=("BinOp", "Other"))
    def instanceof(self, index: int) -> Node:
        if self.tree.child(index, "name") is not None:
            return self.other(index)
        return self.lazy("BinOp", index, self._assign, "instanceof")

    @rule("unary_expression", makes="UnOp")
    def unary(self, index: int) -> Node:
        operator = self.tree.child(index, "operator")
        return self.lazy("UnOp", index, self._operand,
                         self.text(operator) if operator is not None else "-")

    def _operand(self, index: int) -> tuple[Any, ...]:
        operand = self.tree.child(index, "operand")
        if operand is None:
            operand = next(iter(self.named(index)), None)
        return (self.node(operand),)

    @rule("update_expression", makes="UnOp")
    def update(self, index: int) -> Node:
        tree = self.tree
        children = tree.children(index)
        first = tree.text(children[0]) if children else ""
        if first in ("++", "--"):
            return self.lazy("UnOp", index, self._operand, first + "pre")
        last = tree.text(children[-1]) if children else "++"
        return self.lazy("UnOp", index, self._operand, last + "post")

    @rule("cast_expression", makes="Cast")
    def cast(self, index: int) -> Node:
        return self.lazy("Cast", index, self._cast)

    def _cast(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        types = self.nodes(tree.children_in(index, "type"))
        kind = types[0] if len(types) == 1 else make("Type", *span_of(types), None, types,
                                                      value="&")
        return kind, self.node(tree.child(index, "value"))

    @rule("lambda_expression", makes="Lambda")
    def lambda_(self, index: int) -> Node:
        return self.lazy("Lambda", index, self._lambda)

    def _lambda(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        params = tree.child(index, "parameters")
        if params is None:
            found: tuple[Node, ...] = ()
        elif tree.kind(params) == "identifier":
            found = (self.bare_param(params),)
        elif tree.kind(params) == "inferred_parameters":
            found = tuple(self.bare_param(p) for p in self.named(params))
        else:
            found = self.params(params)
        return found, self.node(tree.child(index, "body"))

    def bare_param(self, index: int) -> Node:
        """A parameter written without its type (a lambda's)."""
        name = self.ident(index)
        if name.kind in ("Ellipsis", "MetavarSeq"):
            return name
        return make("Param", name.start, name.end, name, None, None, (), value="")

    @rule("element_value_pair", makes=("Kwarg", "Ellipsis"))
    def element_value_pair(self, index: int) -> Node:
        """``k = v`` in an annotation (a pattern's ``...`` among them is ``_CLDOTS_ =
        _CLDOTS_``)."""
        if self.pattern and self.text(self.tree.child(index, "key") or index) == DOTS:
            return self.leaf("Ellipsis", index, None)
        return self.lazy("Kwarg", index, self._pair)

    def _pair(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "key")), self.node(tree.child(index, "value"))

def decode(text: str) -> str:
    """Java escapes decoded: ``\\n``, ``\\u0041``, octal ``\\101``."""
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 == len(text):
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u":
            j = i + 1
            while j < len(text) and text[j] == "u":
                j += 1
            digits = text[j:j + 4]
            try:
                out.append(chr(int(digits, 16)))
                i = j + 4
                continue
            except ValueError:
                pass
        if nxt in "01234567":
            j = i + 1
            while j < len(text) and j < i + 4 and text[j] in "01234567":
                j += 1
            out.append(chr(int(text[i + 1:j], 8)))
            i = j
            continue
        out.append(ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def text_block(text: str) -> str:
    """A ``\"\"\"`` text block's content: the first line break dropped, the common
    indentation removed."""
    if text.startswith("\n"):
        text = text[1:]
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents) if indents else 0
    return "\n".join(line[cut:] for line in lines)


def number_value(text: str) -> Any:
    """A numeric literal's value (``0x10``, ``020`` and ``16`` are the same number)."""
    cleaned = text.replace("_", "")
    lower = cleaned.lower()
    try:
        if lower.startswith(("0x", "0b")):
            if lower.startswith("0x") and ("p" in lower or "." in lower):
                return float.fromhex(lower.rstrip("fd"))
            return int(lower.rstrip("l"), 0)
        if lower[-1:] in "fd" or "." in lower or "e" in lower:
            return float(lower.rstrip("fd"))
        lower = lower.rstrip("l")
        if len(lower) > 1 and lower[0] == "0":
            return int(lower, 8)
        return int(lower)
    except ValueError:
        return text


__all__ = ["JavaConverter"]
