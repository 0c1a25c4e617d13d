"""tree-sitter-javascript / -typescript expressions to the normalized vocabulary.

What semgrep treats as the same (its js_to_generic), and how it is spelled here:

- ``(x)`` is ``x``; ``x!`` (TypeScript's non-null assertion) is ``x``.
- ``x?.y``, ``f?.()`` and ``a?.[i]`` read their object through ``UnOp("?.")``: a plain
  ``x.y`` pattern does not match them, ``$X.y`` binds ``$X`` to the whole ``x?.``.
- function expressions and arrow functions are ``Lambda(params, body)`` (an arrow's
  expression body stays an expression); ``function f() {}`` declarations are ``FuncDef``.
- object literals (and object destructuring patterns) are ``Record`` of ``Prop(key, value)``,
  ``{a}`` being ``{a: a}``, ``...x`` a ``Spread``, methods ``FuncDef``; string, number and
  identifier keys are all ``Name`` (so ``{"=~/re/": $V}`` matches keys by regex).
- template literals are ``Interp`` of ``Str`` pieces and expressions (even without holes:
  ```...``` does not match a plain string); a tagged template ``t`...``` is ``Call(t,
  (Interp,))``.
- ``x as T``, ``<T>x`` and ``x satisfies T`` are ``Cast(T, x)``.
- JSX: ``Xml(tag, attrs, body)`` (tag None for a fragment), attributes ``XmlAttr(name,
  value)`` (``{...p}`` a ``Spread``), text children ``Str`` (whitespace-only text dropped),
  ``{e}`` children the expression; ``<a/>`` and ``<a></a>`` are the same.
- types: predefined and named types are ``Name``, ``a.B`` an ``Attr``, ``T<U>`` a ``Type``.
"""

from __future__ import annotations

import re
from typing import Any

from indexer.match.lang.base import DOTS, Converter, restore_placeholders, rule
from indexer.match.node import Node, make, span_of

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])")
IDENTIFIERS = ("identifier", "property_identifier", "type_identifier", "statement_identifier",
               "private_property_identifier")


class JsExpressionConverter(Converter):
    """Leaves, literals, expressions, functions, JSX and types of JavaScript/TypeScript."""

    language = "javascript"
    TRANSPARENT = frozenset({"parenthesized_expression", "type_annotation", "non_null_expression",
                             "parenthesized_type", "computed_property_name",
                             "opting_type_annotation", "omitting_type_annotation"})
    SIMPLE = {
        "subscript_expression": ("Subscript", ("object", "index")),
        "ternary_expression": ("IfExp", ("condition", "consequence", "alternative")),
        "await_expression": ("Await", ("#0",)),
        "array": ("Container", ("#",)),
        "array_pattern": ("Container", ("#",)),
        "object": ("Record", ("#",)),
        "object_pattern": ("Record", ("#",)),
        "as_expression": ("Cast", ("#1", "#0")),
        "satisfies_expression": ("Cast", ("#1", "#0")),
        "type_assertion": ("Cast", ("#0", "#1")),
        "generic_type": ("Type", ("name", "type_arguments*")),
        "nested_type_identifier": ("Attr", ("module", "name")),
        "nested_identifier": ("Attr", ("object", "property")),
    }

    def _convert(self, index: int) -> Any:
        """As the base does; an expression in parentheses spans them (semgrep reports
        ``(<a/>)`` from its parenthesis)."""
        if not self.tree.is_named(index):
            return None  # a keyword token named like a node kind (function, class, number)
        found = super()._convert(index)
        if isinstance(found, Node) and index and not self.pattern:
            tree = self.tree
            parent = tree.parent(index)
            while parent > 0 and tree.kind(parent) == "parenthesized_expression":
                found.start, found.end = tree.starts[parent], tree.ends[parent]
                parent = tree.parent(parent)
        return found

    def ident(self, index: int, kind: str = "Name") -> Node:
        """As the base does; in a pattern whose ``...`` were all spelled as placeholders,
        ``...x`` (a spread) reads as ``_CLDOTS_x``: a Spread again."""
        text = self.tree.text(index)
        if self.pattern and text.startswith(DOTS) and len(text) > len(DOTS):
            rest = text[len(DOTS):]
            start, end = self.span(index)
            inner = self.placeholder(rest, index) if rest.startswith("_CL") else None
            if inner is None:
                inner = make(kind, start + 3, end, value=rest)
            return make("Spread", start, end, inner, value="...")
        return super().ident(index, kind)

    # ---- leaves

    @rule(*IDENTIFIERS, makes=("Name", "Metavar", "MetavarSeq", "Ellipsis", "TypedMetavar"))
    def identifier(self, index: int) -> Node:
        return self.ident(index)

    @rule("this", "super", "predefined_type", "this_type", makes="Name")
    def keyword_name(self, index: int) -> Node:
        return self.leaf("Name", index, self.text(index))

    @rule("number", makes="Num")
    def number(self, index: int) -> Node:
        return self.leaf("Num", index, number_value(self.text(index)))

    @rule("true", "false", makes="Bool")
    def boolean(self, index: int) -> Node:
        return self.leaf("Bool", index, self.tree.kind(index) == "true")

    @rule("null", makes="Null")
    def null(self, index: int) -> Node:
        return self.leaf("Null", index, None)

    @rule("undefined", makes="Undefined")
    def undefined(self, index: int) -> Node:
        return self.leaf("Undefined", index, None)

    @rule("regex", makes="Regex")
    def regex(self, index: int) -> Node:
        tree = self.tree
        body, flags = tree.child(index, "pattern"), tree.child(index, "flags")
        text = tree.text(body) if body is not None else ""
        if self.pattern:
            text = restore_placeholders(text)
        return self.leaf("Regex", index, (text, tree.text(flags) if flags is not None else ""))

    @rule("string", makes="Str")
    def string(self, index: int) -> Node:
        return self.leaf("Str", index, self.string_text(index))

    def string_text(self, index: int) -> str:
        """A string literal's decoded content (placeholders restored in a pattern)."""
        tree = self.tree
        pieces = []
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind == "string_fragment" or kind == "html_character_reference":
                pieces.append(tree.text(child))
            elif kind == "escape_sequence":
                pieces.append(decode_escapes(tree.text(child)))
        text = "".join(pieces)
        return restore_placeholders(text) if self.pattern else text

    @rule("template_string", makes=("Str", "Interp"))
    def template(self, index: int) -> Node:
        tree = self.tree
        parts: list[Node] = []
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind in ("string_fragment", "escape_sequence"):
                text = tree.text(child)
                parts.append(self.leaf("Str", child, decode_escapes(text) if kind ==
                                       "escape_sequence" else text))
            elif kind == "template_substitution":
                inner = self.inner(child)
                found = self.node(inner) if inner is not None else None
                parts.append(found if found is not None else self.other(child))
        merged = merge_strings(parts, self.pattern)
        return make("Interp", *self.span(index), merged, value="`")

    # ---- accesses and calls

    @rule("member_expression", makes=("Attr", "DotsChain"))
    def member(self, index: int) -> Node:
        return self.lazy("Attr", index, self._member)

    def _member(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.optional(index, tree.child(index, "object")),
                self.node(tree.child(index, "property")))

    def optional(self, index: int, inner: int | None) -> Node | None:
        """The object of an access, seen through ``?.`` when the access has one."""
        found = self.node(inner)
        chain = self.tree.child(index, "optional_chain")
        if chain is None or found is None:
            return found
        return make("UnOp", found.start, self.tree.ends[chain], found, value="?.")

    @rule("subscript_expression", makes="Subscript")
    def subscript(self, index: int) -> Node:
        return self.lazy("Subscript", index, self._subscript)

    def _subscript(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.optional(index, tree.child(index, "object")),
                self.node(tree.child(index, "index")))

    @rule("call_expression", makes="Call")
    def call(self, index: int) -> Node:
        return self.lazy("Call", index, self._call)

    def _call(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        args = tree.child(index, "arguments")
        func = self.optional(index, tree.child(index, "function"))
        if args is not None and tree.kind(args) == "template_string":
            template = self.node(args)
            assert template is not None
            return func, (Node("Interp", template.start, template.end, "tag`",
                               template.kids, None, args),)
        return func, self.arguments(args)

    def arguments(self, index: int | None) -> tuple[Node, ...]:
        return self.nodes(self.named(index)) if index is not None else ()

    @rule("new_expression", makes="New")
    def new(self, index: int) -> Node:
        return self.lazy("New", index, self._new)

    def _new(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.node(tree.child(index, "constructor")),
                self.arguments(tree.child(index, "arguments")), None)

    # ---- operators

    @rule("binary_expression", makes="BinOp")
    def binary(self, index: int) -> Node:
        return self.lazy("BinOp", index, self._binary, self.operator(index))

    def _binary(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "left")), self.node(tree.child(index, "right"))

    def operator(self, index: int) -> str:
        found = self.tree.child(index, "operator")
        return self.text(found) if found is not None else "?"

    @rule("assignment_expression", makes="Assign")
    def assignment(self, index: int) -> Node:
        return self.lazy("Assign", index, self._assignment, "=")

    @rule("augmented_assignment_expression", makes="AugAssign")
    def augmented(self, index: int) -> Node:
        return self.lazy("AugAssign", index, self._assignment, self.operator(index))

    def _assignment(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.node(tree.child(index, "left")), self.node(tree.child(index, "right"))

    @rule("unary_expression", makes="UnOp")
    def unary(self, index: int) -> Node:
        return self.lazy("UnOp", index, self._operand, self.operator(index))

    @rule("update_expression", makes="UnOp")
    def update(self, index: int) -> Node:
        tree = self.tree
        operator = tree.child(index, "operator")
        argument = tree.child(index, "argument")
        before = operator is not None and argument is not None and operator < argument
        op = self.text(operator) if operator is not None else "++"
        return self.lazy("UnOp", index, self._operand, op + ("pre" if before else "post"))

    def _operand(self, index: int) -> tuple[Any, ...]:
        return (self.node(self.tree.child(index, "argument")),)

    @rule("yield_expression", makes="Yield")
    def yield_(self, index: int) -> Node:
        star = any(self.tree.text(c) == "*" for c in self.tree.children(index))
        return self.lazy("Yield", index, self._first, "from" if star else None)

    def _first(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        return (self.node(named[0]) if named else None,)

    @rule("spread_element", makes="Spread")
    def spread(self, index: int) -> Node:
        return self.lazy("Spread", index, self._first, "...")

    # ---- objects

    @rule("shorthand_property_identifier", "shorthand_property_identifier_pattern",
          makes=("Prop", "Ellipsis", "Metavar"))
    def shorthand(self, index: int) -> Node:
        """``{a}`` is ``{a: a}`` (a placeholder in a pattern stays itself)."""
        name = self.ident(index)
        if name.kind == "Name":
            return make("Prop", name.start, name.end, name, name)
        return name

    @rule("pair", "pair_pattern", makes="Prop")
    def pair(self, index: int) -> Node:
        return self.lazy("Prop", index, self._pair)

    def _pair(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return self.key(tree.child(index, "key")), self.node(tree.child(index, "value"))

    def key(self, index: int | None) -> Node | None:
        """A property name: ``"a"`` and ``a`` are the same Name (a number stays a Num,
        ``[e]`` is e)."""
        if index is not None and self.tree.kind(index) == "string":
            return self.leaf("Name", index, self.string_text(index))
        return self.node(index)

    @rule("object_assignment_pattern", makes="Prop")
    def assignment_pattern(self, index: int) -> Node:
        """``{a = 1} = x``: the field a, with a default."""
        tree = self.tree
        left = self.node(tree.child(index, "left"))
        right = self.node(tree.child(index, "right"))
        if left is not None and left.kind == "Prop":
            default = make("Assign", *span_of(left, right), left.kids[1], right, value="=")
            return make("Prop", *self.span(index), left.kids[0], default)
        return make("Assign", *self.span(index), left, right, value="=")

    # ---- functions

    @rule("arrow_function", "function_expression", "generator_function", makes="Lambda")
    def lambda_(self, index: int) -> Node:
        arrow = self.tree.kind(index) == "arrow_function"
        return self.lazy("Lambda", index, self._lambda, "=>" if arrow else None)

    def _lambda(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        single = tree.child(index, "parameter")
        if single is not None:
            params: tuple[Node, ...] = tuple(p for p in [self.param(single)] if p is not None)
        else:
            params = self.params(tree.child(index, "parameters"))
        return params, self.node(tree.child(index, "body"))

    def params(self, index: int | None) -> tuple[Node, ...]:
        if index is None:
            return ()
        out = []
        named = self.named(index)
        position = 0
        while position < len(named):
            child = named[position]
            position += 1
            typed = self._annotated_error(child, named[position] if position < len(named)
                                          else None)
            if typed is not None:  # JavaScript's grammar on ``(req: Request)``
                out.append(typed)
                position += 1
                continue
            param = self.param(child)
            if param is not None:
                out.append(param)
        return tuple(out)

    def _annotated_error(self, index: int, following: int | None) -> Node | None:
        """``name:`` left as an error, the type after it: a typed parameter."""
        tree = self.tree
        kids = tree.children(index)
        if tree.kind(index) != "ERROR" or following is None or len(kids) != 2 or \
                tree.kind(kids[0]) != "identifier" or tree.text(kids[1]) != ":":
            return None
        return make("Param", tree.starts[index], tree.ends[following], self.ident(kids[0]),
                    self.node(following), None, (), value="")

    def param(self, index: int) -> Node | None:
        """One formal parameter: ``Param(name, type, default, attrs)``; ``...`` and
        ``$...X`` in a pattern stay themselves."""
        tree = self.tree
        kind = tree.kind(index)
        if kind in ("required_parameter", "optional_parameter"):
            return self._ts_param(index)
        if kind == "assignment_pattern":
            name = self.param(tree.child(index, "left") or index)
            default = self.node(tree.child(index, "right"))
            if name is None or name.kind != "Param":
                return name
            return make("Param", *self.span(index), name.kids[0], None, default, (),
                        value=name.value)
        if kind == "rest_pattern":
            named = self.named(index)
            inner = self.node(named[0]) if named else None
            return make("Param", *self.span(index), inner, None, None, (), value="...")
        if kind == "decorator":
            return None
        target = self.node(index)
        if target is None or target.kind in ("Ellipsis", "MetavarSeq"):
            return target
        return make("Param", target.start, target.end, target, None, None, (), value="")

    def _ts_param(self, index: int) -> Node | None:
        tree = self.tree
        pattern = tree.child(index, "pattern")
        inner = self.param(pattern) if pattern is not None else None
        if inner is None or inner.kind != "Param":
            return inner
        attrs = self.nodes(c for c in tree.children(index)
                           if tree.kind(c) in ("decorator", "accessibility_modifier",
                                               "override_modifier") or tree.text(c) == "readonly")
        return make("Param", *self.span(index), inner.kids[0],
                    self.node(tree.child(index, "type")), self.node(tree.child(index, "value")),
                    attrs, value=inner.value)

    @rule("accessibility_modifier", "override_modifier", makes="Modifier")
    def modifier(self, index: int) -> Node:
        return self.leaf("Modifier", index, self.text(index))

    @rule("decorator", makes="Decorator")
    def decorator(self, index: int) -> Node:
        """``@d(x)``: the name and the arguments, ``@d`` without arguments (as semgrep's
        NamedAttr, whose arguments must match)."""
        return self.lazy("Decorator", index, self._decorator)

    def _decorator(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        inner = self.node(named[0]) if named else None
        if inner is not None and inner.kind == "Call":
            return inner.kids[0], inner.kids[1]
        return inner, ()

    # ---- JSX

    @rule("jsx_element", "jsx_self_closing_element", makes="Xml")
    def jsx(self, index: int) -> Node:
        singleton = self.tree.kind(index) == "jsx_self_closing_element"
        return self.lazy("Xml", index, self._jsx, "singleton" if singleton else None)

    def _jsx(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        opening = tree.child(index, "open_tag")
        head = index if opening is None else opening
        name = tree.child(head, "name")
        attrs = self.nodes(tree.children_in(head, "attribute"))
        if opening is None:
            return self.node(name), attrs, ()
        body = [c for c in self.named(index) if c != opening and tree.kind(c) !=
                "jsx_closing_element"]
        return self.node(name), attrs, self.nodes(body)

    @rule("jsx_attribute", makes=("XmlAttr", "Ellipsis"))
    def jsx_attribute(self, index: int) -> Node:
        named = self.named(index)
        name = self.node(named[0]) if named else None
        value = self.node(named[1]) if len(named) > 1 else None
        if name is not None and name.kind == "Ellipsis" and value is None:
            return name
        return make("XmlAttr", *self.span(index), name, value)

    @rule("jsx_expression", makes=("Spread", "Other"))
    def jsx_expression(self, index: int) -> Node | None:
        inner = self.inner(index)
        if inner is None:
            return self.other(index)
        return self.node(inner)

    @rule("jsx_text", makes=("Str", "Ellipsis"))
    def jsx_text(self, index: int) -> Node | None:
        text = self.text(index)
        if not text.strip():
            return None
        if self.pattern and text.strip() in ("...", DOTS):
            return self.leaf("Ellipsis", index, None)
        return self.leaf("Str", index, text.strip())

    @rule("jsx_namespace_name", makes="Name")
    def jsx_namespace(self, index: int) -> Node:
        return self.leaf("Name", index, self.text(index))


def number_value(text: str) -> Any:
    """A JavaScript number's value: int for integer literals (0x10 is 16), float otherwise,
    the text when it does not parse (BigInt suffixes dropped)."""
    cleaned = text.replace("_", "").rstrip("n")
    lowered = cleaned.lower()
    try:
        if lowered.startswith(("0x", "0o", "0b")):
            return int(cleaned, 0)
        if len(cleaned) > 1 and cleaned[0] == "0" and cleaned.isdigit():
            return int(cleaned, 8)  # legacy octal
        if any(c in lowered for c in ".e"):
            value = float(cleaned)
            return int(value) if value.is_integer() and "e" not in lowered else value
        return int(cleaned)
    except ValueError:
        return text


def decode_escapes(text: str) -> str:
    """JavaScript string escapes decoded."""
    if "\\" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        body = match.group(1)
        if body.startswith("u{"):
            return chr(int(body[2:-1], 16))
        if body[0] in "ux" and len(body) > 1:
            return chr(int(body[1:], 16))
        if body in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
            return ""
        return ESCAPES.get(body, body)

    return ESCAPE.sub(one, text)


def merge_strings(parts: list[Node], pattern: bool) -> tuple[Node, ...]:
    """Adjacent Str pieces joined into one (their spans joined too); placeholders restored
    in a pattern."""
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
