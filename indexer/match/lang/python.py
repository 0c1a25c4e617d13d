"""tree-sitter-python to the normalized vocabulary."""

from __future__ import annotations

import ast
import re
from typing import Any

from indexer.match.lang.base import DOTS, SUFFIX, restore_placeholders, rule
from indexer.match.lang.python_stmts import PythonStatements
from indexer.match.node import Node, make, span_of

LOOP_TARGETS = frozenset({"identifier", "pattern_list", "tuple_pattern", "list_pattern"})


class PythonConverter(PythonStatements):
    language = "python"
    TRANSPARENT = frozenset({"parenthesized_expression", "type"})
    NON_EXPRESSION = frozenset({
        ("attribute", "attribute"), ("function_definition", "name"),
        ("class_definition", "name"), ("keyword_argument", "name"), ("parameters", "*"),
        ("lambda_parameters", "*"), ("typed_parameter", ""), ("default_parameter", "name"),
        ("typed_default_parameter", "name"), ("list_splat_pattern", "*"),
        ("dictionary_splat_pattern", "*"), ("aliased_import", "*"), ("dotted_name", "*"),
        ("import_from_statement", "*"), ("import_statement", "*"), ("global_statement", "*"),
        ("nonlocal_statement", "*"), ("as_pattern_target", "*"), ("keyword_pattern", "*"),
        ("relative_import", "*"), ("future_import_statement", "*")})
    SHADOWED = frozenset({("decorated_definition", "definition")})
    ATTRIBUTE_EXPRESSIONS = frozenset({("decorator", "")})
    SCOPES = frozenset({"function_definition", "lambda"})
    DEFINES = frozenset({"parameters", "lambda_parameters", "typed_parameter",
                         "default_parameter", "typed_default_parameter", "list_splat_pattern",
                         "dictionary_splat_pattern", "as_pattern_target"})
    SIMPLE = {
        "module": ("Module", ("#",)),
        "block": ("Block", ("#",)),
        "attribute": ("Attr", ("object", "attribute")),
        "call": ("Call", ("function", "arguments*")),
        "keyword_argument": ("Kwarg", ("name", "value")),
        "slice": ("Slice", ("#0", "#1", "#2")),
        "pair": ("Pair", ("key", "value")),
        "lambda": ("Lambda", ("parameters*", "body")),
        "await": ("Await", ("#0",)),
        "augmented_assignment": ("AugAssign", ("left", "right")),
        "for_in_clause": ("CompFor", ("left", "right")),
        "if_clause": ("CompIf", ("#0",)),
        "return_statement": ("Return", ("#0",)),
        "raise_statement": ("Throw", ("#0", "cause")),
        "while_statement": ("While", ("condition", "body", "alternative")),
        "else_clause": ("Block", ("body*",)),
        "finally_clause": ("Block", ("#",)),
        "assert_statement": ("Assert", ("#",)),
        "delete_statement": ("Delete", ("#",)),
        "with_statement": ("With", ("#0", "body")),
        "pass_statement": ("Pass", ()),
        "break_statement": ("Break", ("",)),
        "continue_statement": ("Continue", ("",)),
        "named_expression": ("Assign", ("name", "value")),
    }

    # ---- leaves

    @rule("identifier", makes=("Name", "Metavar", "MetavarSeq", "Ellipsis", "TypedMetavar"))
    def identifier(self, index: int) -> Node:
        return self.ident(index)

    @rule("integer", "float", makes="Num")
    def number(self, index: int) -> Node:
        return self.leaf("Num", index, number_value(self.text(index)))

    @rule("true", "false", makes="Bool")
    def boolean(self, index: int) -> Node:
        return self.leaf("Bool", index, self.text(index) == "True")

    @rule("none", makes="Null")
    def none(self, index: int) -> Node:
        return self.leaf("Null", index, None)

    @rule("ellipsis", makes=("Ellipsis", "Other"))
    def ellipsis(self, index: int) -> Node:
        if self.pattern:
            return self.leaf("Ellipsis", index, None)
        return self.leaf("Other", index, ("ellipsis", "..."))

    @rule("string", makes=("Str", "Interp"))
    def string(self, index: int) -> Node:
        return self._string([index], index)

    @rule("concatenated_string", makes=("Str", "Interp"))
    def concatenated(self, index: int) -> Node:
        return self._string(self.named(index), index)

    def _string(self, pieces: list[int], index: int) -> Node:
        """One Str of the decoded text, or an Interp of Str pieces and expressions when an
        f-string has holes."""
        tree = self.tree
        parts: list[Node] = []
        fstring = False
        for piece in pieces:
            children = tree.children(piece)
            prefix = tree.text(children[0]).rstrip("'\"").lower() if children else ""
            fstring = fstring or "f" in prefix
            for child in children:
                kind = tree.kind(child)
                if kind == "interpolation":
                    parts.append(self._hole(child))
                elif kind in ("string_content", "escape_interpolation"):
                    text = tree.text(child)
                    if not (self.pattern and text.startswith("=~/")):  # regexes stay raw
                        text = decode_piece(text, prefix)
                    parts.append(self.leaf("Str", child, text))
        if not fstring:
            text = "".join(p.value for p in parts)
            return self.leaf("Str", index, restore_placeholders(text) if self.pattern else text)
        merged = _merge_strings(parts, self.pattern)
        return make("Interp", self.tree.starts[index], self.tree.ends[index], merged,
                    value="f")

    def _hole(self, index: int) -> Node:
        inner = self.tree.child(index, "expression")
        found = self.node(inner)
        return found if found is not None else self.other(index)

    @classmethod
    def spellings(cls, spellings: list[str]) -> list[str]:
        """Also ``...`` among a dictionary's entries as a ``**`` entry, and a lone decorator
        given a function to decorate."""
        out = list(spellings)
        for text in spellings:
            if DOTS in text:
                out.append(re.sub(r"(?<=[{,])(\s*)" + DOTS + r"(?=\s*[,}])", r"\1**" + DOTS,
                                  text))
        if spellings and spellings[0].lstrip().startswith("@"):
            out += [t + SUFFIX + "\ndef _CLDECORATED_(): pass" for t in spellings[:2]]
        return list(dict.fromkeys(out))

    def in_expression(self, index: int) -> bool:
        """Also not the names a ``for`` (loop or comprehension) binds, alone or in a tuple:
        semgrep reads them as patterns."""
        if not super().in_expression(index):
            return False
        tree = self.tree
        if tree.kind(index) not in LOOP_TARGETS:
            return True
        while True:
            parent = tree.parent(index)
            if parent < 0:
                return True
            kind = tree.kind(parent)
            if kind in ("for_statement", "for_in_clause"):
                return tree.field_of(index) != "left"
            if kind not in LOOP_TARGETS:
                return True
            index = parent

    def shadowed(self, index: int) -> bool:
        """Also ``a or b`` inside ``a or b or c``: Python's own tree has one operation with
        three operands there (parentheses make a separate one)."""
        if super().shadowed(index):
            return True
        tree = self.tree
        if tree.kind(index) != "boolean_operator" or tree.field_of(index) != "left":
            return False
        parent = tree.parent(index)
        if tree.kind(parent) != "boolean_operator":
            return False
        mine, theirs = tree.child(index, "operator"), tree.child(parent, "operator")
        return mine is not None and theirs is not None and tree.text(mine) == tree.text(theirs)

    # ---- expressions

    @rule("subscript", makes="Subscript")
    def subscript(self, index: int) -> Node:
        return self.lazy("Subscript", index, self._subscript)

    def _subscript(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        indexes = self.nodes(tree.children_in(index, "subscript"))
        key = indexes[0] if len(indexes) == 1 else make(
            "Container", *span_of(indexes), indexes, value="tuple")
        return self.node(tree.child(index, "value")), key

    @rule("decorator", makes="Decorator")
    def decorator(self, index: int) -> Node:
        return self.lazy("Decorator", index, self._decorator)

    def _decorator(self, index: int) -> tuple[Any, ...]:
        """@name(args): the name and the arguments apart, as semgrep reads decorators."""
        named = self.named(index)
        expression = self.node(named[0]) if named else None
        if expression is not None and expression.kind == "Call":
            return expression.kids[0], expression.kids[1]
        return expression, ()

    @rule("string_content", makes="Str")
    def string_piece(self, index: int) -> Node | None:
        """A piece of an f-string: an expression of its own, as in semgrep (a piece of a
        plain string is nothing by itself: its string stands for it)."""
        tree = self.tree
        parent = tree.parent(index)
        first = tree.children(parent)[0] if parent >= 0 and tree.children(parent) else None
        prefix = tree.text(first).rstrip("'\"").lower() if first is not None else ""
        if "f" not in prefix:
            return None
        return self.leaf("Str", index, decode_piece(tree.text(index), prefix))

    @rule("binary_operator", makes="BinOp")
    def binary(self, index: int) -> Node:
        operator = self.tree.child(index, "operator")
        op = self.text(operator) if operator is not None else "?"
        return self.lazy("BinOp", index, self._binary, op)

    def _binary(self, index: int) -> tuple[Any, ...]:
        return self.node(self.tree.child(index, "left")), self.node(
            self.tree.child(index, "right"))

    @rule("boolean_operator", makes="BinOp")
    def boolean_op(self, index: int) -> Node:
        operator = self.tree.child(index, "operator")
        return self.lazy("BinOp", index, self._binary, self.text(operator)
                         if operator is not None else "and")

    @rule("comparison_operator", makes="BinOp")
    def comparison(self, index: int) -> Node:
        tree = self.tree
        operands = [c for c in self.named(index)]
        operators = [" ".join(tree.text(o).split()) for o in tree.children_in(index, "operators")]
        if len(operands) == 2 and len(operators) == 1:
            return self.lazy("BinOp", index, self._comparison, operators[0])
        terms = self.nodes(operands)  # a < b < c is a < b and b < c
        pairs = [make("BinOp", *span_of(left, right), left, right, value=op)
                 for left, right, op in zip(terms, terms[1:], operators, strict=False)]
        result = pairs[0]
        for pair in pairs[1:]:
            result = make("BinOp", *span_of(result, pair), result, pair, value="and")
        return result

    def _comparison(self, index: int) -> tuple[Any, ...]:
        return self.nodes(self.named(index))

    @rule("not_operator", makes="UnOp")
    def not_operator(self, index: int) -> Node:
        return self.lazy("UnOp", index, self._operand, "not")

    @rule("unary_operator", makes="UnOp")
    def unary(self, index: int) -> Node:
        operator = self.tree.child(index, "operator")
        return self.lazy("UnOp", index, self._operand,
                         self.text(operator) if operator is not None else "-")

    def _operand(self, index: int) -> tuple[Any, ...]:
        return (self.node(self.tree.child(index, "argument")),)

    @rule("assignment", makes=("Assign", "VarDef"))
    def assignment(self, index: int) -> Node:
        if self.tree.child(index, "type") is not None:
            return self.lazy("VarDef", index, self._annotated)
        return self.lazy("Assign", index, self._assign, "=")

    def _assign(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "left")), self.node(tree.child(index, "right"))

    def _annotated(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.node(tree.child(index, "left")), self.node(tree.child(index, "type")),
                self.node(tree.child(index, "right")), ())

    @rule("list", "list_pattern", makes="Container")
    def list_(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "list")

    @rule("tuple", "expression_list", "pattern_list", "tuple_pattern", makes="Container")
    def tuple_(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "tuple")

    @rule("set", makes="Container")
    def set_(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "set")

    @rule("dictionary", makes="Container")
    def dictionary(self, index: int) -> Node:
        return self.lazy("Container", index, self._elements, "dict")

    def _elements(self, index: int) -> tuple[Any, ...]:
        return (self.nodes(self.named(index)),)

    @rule("list_splat", "list_splat_pattern", makes=("Spread", "Param"))
    def list_splat(self, index: int) -> Node:
        return self.lazy("Spread", index, self._splatted, "*")

    @rule("dictionary_splat", "dictionary_splat_pattern", makes=("Spread", "Param"))
    def dict_splat(self, index: int) -> Node:
        return self.lazy("Spread", index, self._splatted, "**")

    def _splatted(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.node(named[0]) if named else None,)

    @rule("conditional_expression", makes="IfExp")
    def conditional(self, index: int) -> Node:
        return self.lazy("IfExp", index, self._conditional)

    def _conditional(self, index: int) -> tuple[Any, ...]:
        then, cond, other = (self.named(index) + [None, None, None])[:3]
        return self.node(cond), self.node(then), self.node(other)

    @rule("list_comprehension", "set_comprehension", "dictionary_comprehension",
          "generator_expression", makes="Comprehension")
    def comprehension(self, index: int) -> Node:
        flavour = {"list_comprehension": "list", "set_comprehension": "set",
                   "dictionary_comprehension": "dict"}.get(self.tree.kind(index), "generator")
        return self.lazy("Comprehension", index, self._comprehension, flavour)

    def _comprehension(self, index: int) -> tuple[Any, ...]:
        named = self.nodes(self.named(index))
        return (named[0] if named else None), named[1:]

    @rule("yield", makes="Yield")
    def yield_(self, index: int) -> Node:
        tree = self.tree
        is_from = any(tree.kind(c) == "from" for c in tree.children(index))
        return self.lazy("Yield", index, self._first_named, "from" if is_from else None)

    def _first_named(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.node(named[0]) if named else None,)

    @rule("generic_type", makes="Type")
    def generic_type(self, index: int) -> Node:
        return self.lazy("Type", index, self._generic)

    def _generic(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        args = self.nodes(self.named(named[1])) if len(named) > 1 else ()
        return self.node(named[0]) if named else None, args

    # ---- statements


def decode_piece(text: str, prefix: str) -> str:
    """A piece of a string literal's body, escapes decoded unless the literal is raw (or
    bytes: b"\\xe4" is not the text "\\xe4")."""
    if "r" in prefix or "b" in prefix or "\\" not in text:
        return text
    try:
        value = ast.literal_eval('"""' + text.replace('"', '\\"') + '"""')
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def number_value(text: str) -> Any:
    """The value of a numeric literal (0x10 and 16 are the same number), else its text."""
    cleaned = text.replace("_", "")
    try:
        if cleaned[-1:] in "jJ":
            return complex(cleaned)
        if cleaned[-1:] in "lL":
            cleaned = cleaned[:-1]
        if any(c in cleaned for c in ".eE") and not cleaned.lower().startswith("0x"):
            return float(cleaned)
        if len(cleaned) > 1 and cleaned[0] == "0" and cleaned[1].isdigit():
            return int(cleaned, 8)  # Python 2 octal
        return int(cleaned, 0)
    except ValueError:
        return text


def _merge_strings(parts: list[Node], pattern: bool) -> tuple[Node, ...]:
    """Adjacent Str pieces joined into one (their spans joined too)."""
    merged: list[Node] = []
    for part in parts:
        if part.kind == "Str" and merged and merged[-1].kind == "Str":
            last = merged.pop()
            part = make("Str", last.start, part.end, value=last.value + part.value)
        merged.append(part)
    if pattern:
        merged = [make("Str", p.start, p.end, value=restore_placeholders(p.value))
                  if p.kind == "Str" else p for p in merged]
    return tuple(merged)
