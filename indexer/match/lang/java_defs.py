"""tree-sitter-java declarations and types to the normalized vocabulary.

Classes, interfaces, enums, records and ``@interface`` are ClassDefs (value ``class`` or
``interface``, as semgrep's class kinds; enum, record and annotation types say so with a
Modifier attribute). Their bodies are Blocks of value ``members``: matched in any order,
more allowed. Modifiers and annotations are attributes (``attrs``), throws clauses too.
Types are Names, ``a.b.C`` Attrs, ``C<T>`` Type(C, [T]), ``T[]`` Type(T) of value ``[]``.
"""

from __future__ import annotations

import re
from typing import Any

from indexer.match.lang.base import DOTS, MV_SEQ_PREFIX, Converter, rule
from indexer.match.node import Node, make, span_of

KEYWORDS = frozenset({"try", "finally", "catch", "if", "else", "while", "for", "do", "switch",
                      "synchronized", "static", "return", "throw", "new"})
CLASS_KINDS = {"class_declaration": ("class", None), "interface_declaration": ("interface", None),
               "enum_declaration": ("class", "enum"), "record_declaration": ("record", None),
               "annotation_type_declaration": ("interface", "@interface")}
# a parameter list of a declaration (followed by a body, throws or the end of the pattern)
NOT_TYPES = r"(?!(?:new|return|throw|else|case)\b)"
NOT_NAMES = r"(?!(?:if|while|for|switch|catch|synchronized|return|new|throw|else|do|try|case)\b)"
DECLARED_PARAMS = re.compile(
    r"((?:\b" + NOT_TYPES + r"[\w$<>\[\]]+|[>\]])[ \t]+" + NOT_NAMES + r"[\w$]+\s*)"
    r"\(([^()]*)\)(\s*(?:\{|throws\b|;|$))")
# a constructor's: a name alone before its parameters, then its body
CONSTRUCTOR_PARAMS = re.compile(
    r"((?:^|(?<=[;{}]))\s*" + NOT_NAMES + r"[\w$]+\s*)\(([^()]*)\)(\s*(?:\{|throws\b))")
CATCH_DOTS = re.compile(r"catch\s*\(\s*" + DOTS + r"\s*\)")
ANNOTATION_ARGS = re.compile(r"(@[\w$.]+\s*)\(([^()]*=[^()]*)\)")
FOR_DOTS = re.compile(r"\bfor\s*\(\s*" + DOTS + r"\s*\)")
# `...` where a member or a statement stands: on its own line, or after { } ;
MEMBER_DOTS = re.compile(r"(?:(?m:^)|(?<=[{};]))[ \t]*" + DOTS + r"[ \t]*;?(?=\s|$|\})")
VARARGS = re.compile(r"([\w\]>])" + DOTS + r"(\s+[\w$])")  # `double... x`
STATEMENT_SEQ = re.compile(r"(?m)^(\s*)(" + MV_SEQ_PREFIX + r"[A-Z0-9_]+)\s*;?(\s*)$")


class JavaDefinitions(Converter):
    """Declarations, modifiers, annotations, imports and types (see the module doc)."""

    @classmethod
    def spellings(cls, spellings: list[str]) -> list[str]:
        """Java spellings of a pattern the grammar would reject or misread: ``$...X`` on
        its own line is a statement; ``...`` or ``$...X`` as a parameter is written twice
        (a type and a name); ``...`` as a class member or a statement is the declaration
        ``_CLDOTS_ _CLDOTS_;``."""
        out: list[str] = []
        for text in spellings:
            text = STATEMENT_SEQ.sub(r"\1\2;\3", text)
            text = VARARGS.sub(r"\1...\2", text)
            text = ANNOTATION_ARGS.sub(_annotation_args, text)
            spelled = CONSTRUCTOR_PARAMS.sub(_params, DECLARED_PARAMS.sub(_params, text))
            spelled = CATCH_DOTS.sub(f"catch ({DOTS} {DOTS})", spelled)
            spelled = FOR_DOTS.sub(f"for ({DOTS} {DOTS} : {DOTS})", spelled)
            members = MEMBER_DOTS.sub(f"{DOTS} {DOTS};", spelled)
            out += [text, spelled, members]
        return list(dict.fromkeys(out))

    # ---- modifiers and annotations

    def modifiers(self, index: int) -> tuple[Node, ...]:
        """The attributes of a declaration: its keywords and annotations, and a throws
        clause."""
        tree = self.tree
        out: list[Node] = []
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind == "modifiers":
                for item in tree.children(child):
                    if tree.kind(item) in ("annotation", "marker_annotation"):
                        found = self.node(item)
                        if found is not None:
                            out.append(found)
                    elif tree.kind(item) not in ("line_comment", "block_comment"):
                        out.append(self.leaf("Modifier", item, tree.text(item)))
            elif kind == "throws":
                for thrown in self.named(child):
                    kind_node = self.node(thrown)
                    out.append(make("Decorator", *self.span(thrown),
                                    make("Other", *self.span(thrown), (kind_node,),
                                         value=("throws", ())), ()))
        return tuple(out)

    @rule("annotation", "marker_annotation", makes="Decorator")
    def annotation(self, index: int) -> Node:
        return self.lazy("Decorator", index, self._annotation)

    def _annotation(self, index: int) -> tuple[Any, ...]:
        """``@A(x)``: the name and the arguments, ``@A`` without arguments (as decorators
        are everywhere)."""
        tree = self.tree
        name = self.node(tree.child(index, "name"))
        arguments = tree.child(index, "arguments")
        args = self.nodes(self.named(arguments)) if arguments is not None else ()
        return name, args

    @rule("scoped_identifier", "scoped_type_identifier", makes="Attr")
    def scoped(self, index: int) -> Node:
        return self.lazy("Attr", index, self._scoped)

    def _scoped(self, index: int) -> tuple[Any, ...]:
        named = self.named(index)
        tree = self.tree
        scope = tree.child(index, "scope")
        name = tree.child(index, "name")
        if scope is None or name is None:  # scoped_type_identifier has no fields
            scope, name = (named[0], named[-1]) if len(named) >= 2 else (None, None)
        return self.node(scope), self.node(name)

    # ---- types

    @rule("integral_type", "floating_point_type", "boolean_type", "void_type", makes="Name")
    def primitive_type(self, index: int) -> Node:
        return self.leaf("Name", index, self.text(index))

    @rule("generic_type", makes="Type")
    def generic_type(self, index: int) -> Node:
        return self.lazy("Type", index, self._generic)

    def _generic(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        named = self.named(index)
        arguments = next((c for c in named if tree.kind(c) == "type_arguments"), None)
        args = self.nodes(self.named(arguments)) if arguments is not None else ()
        return self.node(named[0]) if named else None, args

    @rule("array_type", makes="Type")
    def array_type(self, index: int) -> Node:
        tree = self.tree
        element = self.node(tree.child(index, "element"))
        dims = tree.child(index, "dimensions")
        count = self.text(dims).count("[") if dims is not None else 1
        for _ in range(max(count, 1)):
            element = make("Type", *self.span(index), element, (), value="[]")
        assert element is not None
        return element

    @rule("annotated_type", makes=("Name", "Attr", "Type"))
    def annotated_type(self, index: int) -> Node | None:
        named = self.named(index)
        return self.node(named[-1]) if named else self.other(index)

    @rule("type_parameter", makes=("Name", "Other"))
    def type_parameter(self, index: int) -> Node:
        named = self.named(index)
        if len(named) == 1:
            return self.ident(named[0])
        return self.other(index)

    def type_parameters(self, index: int) -> tuple[Node, ...] | None:
        tree = self.tree
        found = tree.child(index, "type_parameters")
        return self.nodes(self.named(found)) if found is not None else None

    # ---- classes

    @rule(*CLASS_KINDS, makes="ClassDef")
    def class_declaration(self, index: int) -> Node:
        return self.lazy("ClassDef", index, self._class, CLASS_KINDS[self.tree.kind(index)][0])

    def _class(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        bases: tuple[Node, ...] = ()
        impls: tuple[Node, ...] = ()
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind == "superclass":
                bases = self.nodes(self.named(child))
            elif kind in ("super_interfaces", "extends_interfaces"):
                listed = self.named(child)
                types = self.nodes(self.named(listed[0])) if listed else ()
                if tree.kind(index) == "interface_declaration":
                    bases = types
                else:
                    impls = types
        attrs = self.modifiers(index)
        flavour = CLASS_KINDS[tree.kind(index)][1]
        if flavour is not None:
            attrs = (self.leaf("Modifier", index, flavour), *attrs)
        return (self.node(tree.child(index, "name")), bases, impls, self._class_body(index),
                attrs, self.type_parameters(index))

    def _class_body(self, index: int) -> Node | None:
        """The members, a record's components first (as fields)."""
        tree = self.tree
        body = tree.child(index, "body")
        members = self._members(body) if body is not None else ()
        components = tree.child(index, "parameters")
        if components is not None:
            members = tuple(self._component(p) for p in self.params(components)) + members
        if body is None:
            return None
        return Node("Block", *self.span(body), "members", (members,), None, body)

    def _component(self, param: Node) -> Node:
        if param.kind != "Param":
            return param
        name, kind, _default, attrs = param.kids
        return make("VarDef", param.start, param.end, name, kind, None, attrs)

    def _members(self, index: int) -> tuple[Node, ...]:
        tree = self.tree
        out: list[Node] = []
        for child in self.named(index):
            if tree.kind(child) == "enum_body_declarations":
                out.extend(self._members(child))
            else:
                out.extend(self.nodes([child]))
        return tuple(out)

    @rule("class_body", "interface_body", "enum_body", "annotation_type_body", makes="Block")
    def class_body(self, index: int) -> Node:
        return Node("Block", *self.span(index), "members", None, self._member_list, index)

    def _member_list(self, index: int) -> tuple[Any, ...]:
        return (self._members(index),)

    @rule("enum_constant", makes=("Other", "ExprStmt"))
    def enum_constant(self, index: int) -> Node:
        """An enum constant (a pattern's ``...`` among them is an ellipsis member)."""
        if self.pattern and self.text(index) == DOTS:
            return make("ExprStmt", *self.span(index), self.leaf("Ellipsis", index, None))
        return self.other(index)

    # ---- methods

    @rule("method_declaration", "annotation_type_element_declaration", makes="FuncDef")
    def method(self, index: int) -> Node | None:
        tree = self.tree
        if self.pattern and any(self.text(part) in KEYWORDS for part in (
                tree.child(index, "type"), tree.child(index, "name")) if part is not None):
            return None  # `new X() {...}` read as a method of type new
        return self.lazy("FuncDef", index, self._method)

    def _method(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        params = tree.child(index, "parameters")
        return (self.node(tree.child(index, "name")),
                self.params(params) if params is not None else (),
                self.node(tree.child(index, "type")), self.node(tree.child(index, "body")),
                self.modifiers(index), self.type_parameters(index))

    @rule("constructor_declaration", "compact_constructor_declaration", makes="FuncDef")
    def constructor(self, index: int) -> Node | None:
        if self.pattern and self.text(self.tree.child(index, "name") or index) in KEYWORDS:
            return None  # `try {...}` read as a record's compact constructor named try
        return self.lazy("FuncDef", index, self._method)  # no return type: semgrep's constructors

    def params(self, index: int) -> tuple[Node, ...]:
        out = []
        for child in self.named(index):
            param = self.param(child)
            if param is not None:
                out.append(param)
        return tuple(out)

    def param(self, index: int) -> Node | None:
        tree = self.tree
        kind = tree.kind(index)
        if kind == "receiver_parameter":
            return None
        if kind == "spread_parameter":
            named = self.named(index)
            declarator = next((c for c in named if tree.kind(c) == "variable_declarator"),
                              None)
            type_index = next((c for c in named if c != declarator
                               and tree.kind(c) != "modifiers"), None)
            name = self.node(tree.child(declarator, "name")) if declarator is not None else None
            return Node("Param", *self.span(index), "...",
                        (name, self.node(type_index), None, self.modifiers(index)), None, index)
        if kind != "formal_parameter":
            return self.node(index)
        type_index, name_index = tree.child(index, "type"), tree.child(index, "name")
        if self.pattern and type_index is not None and name_index is not None:
            written = self.text(type_index)
            if written == self.text(name_index) and (written == DOTS or written.startswith(
                    MV_SEQ_PREFIX)):
                return self.ident(name_index)  # `...` or `$...X` standing for parameters
        declared = self.node(type_index)
        dims = tree.child(index, "dimensions")
        if dims is not None and declared is not None:
            declared = make("Type", *span_of(declared), declared, (), value="[]")
        return Node("Param", *self.span(index), "",
                    (self.node(name_index), declared, None, self.modifiers(index)), None, index)

    # ---- imports and packages

    @rule("import_declaration", makes=("ImportFrom", "ImportAll"))
    def import_declaration(self, index: int) -> Node:
        tree = self.tree
        named = self.named(index)
        path = self.dotted(named[0]) if named else make("Dotted", *self.span(index), ())
        static = any(tree.kind(c) == "static" for c in tree.children(index))
        if any(tree.kind(c) == "asterisk" for c in named):
            return make("ImportAll", *self.span(index), path, value="static" if static else None)
        parts = path.kids[0]
        module = make("Dotted", *span_of(parts[:-1]), parts[:-1])
        alias = make("Alias", *span_of(parts[-1:]), parts[-1] if parts else None, None)
        return make("ImportFrom", *self.span(index), module, (alias,),
                    value="static" if static else None)

    @rule("package_declaration", makes="Package")
    def package(self, index: int) -> Node:
        named = self.named(index)
        path = self.dotted(named[-1]) if named else make("Dotted", *self.span(index), ())
        return make("Package", *self.span(index), path)

    def dotted(self, index: int) -> Node:
        """``a.b.C`` as a Dotted of Names."""
        tree = self.tree
        parts: list[Node] = []
        stack = [index]
        while stack:
            current = stack.pop()
            if tree.kind(current) in ("identifier", "type_identifier"):
                parts.append(self.ident(current))
            else:
                stack.extend(reversed(self.named(current)))
        return make("Dotted", *self.span(index), tuple(parts))


def _annotation_args(match: re.Match[str]) -> str:
    """``@A(..., k = v)``: the ``...`` among named arguments as a pair ``_CLDOTS_ =
    _CLDOTS_`` (the grammar wants all or none named)."""
    items = [f"{DOTS} = {DOTS}" if item.strip() == DOTS else item
             for item in match.group(2).split(",")]
    return f"{match.group(1)}({','.join(items)})"


def _params(match: re.Match[str]) -> str:
    items = [_double(item) for item in match.group(2).split(",")]
    return f"{match.group(1)}({','.join(items)}){match.group(3)}"


def _double(item: str) -> str:
    """A lone ``...`` or ``$...X`` parameter written as a type and a name."""
    stripped = item.strip()
    if stripped == DOTS or (stripped.startswith(MV_SEQ_PREFIX) and " " not in stripped):
        return f"{stripped} {stripped}"
    return item
