"""The types of Java expressions, as semgrep's typing knows them, for typed metavariables.

A name's type is its declaration's, found by walking up the grammar tree from the use
(locals declared before it in the enclosing blocks, parameters, loop variables, catch
parameters, resources, fields of the enclosing classes); a name declared nowhere has its own
name as type (``MessageDigest`` in ``MessageDigest.getInstance(...)``). Literals, casts,
``new``, comparisons and boolean operators have their evident types, and a few library
methods (``equals``, ``size``, ``get`` of a generic container...) their usual ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.match.node import Node, make

if TYPE_CHECKING:
    from indexer.match.facts import Facts
    from indexer.match.lang.java_defs import JavaDefinitions

BUILTINS = {"int": "int", "Integer": "int", "long": "int", "Long": "int",
            "float": "float", "double": "float", "Float": "float", "Double": "float",
            "String": "string", "boolean": "bool", "Boolean": "bool"}
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "instanceof"})
BOOLEAN_METHODS = frozenset({"equals", "isEmpty", "contains", "containsKey", "containsValue"})
SCOPE_STATEMENTS = frozenset({"block", "constructor_body", "switch_block_statement_group",
                              "program", "switch_rule"})
CLASS_BODIES = frozenset({"class_body", "interface_body", "enum_body", "enum_body_declarations",
                          "annotation_type_body"})
DECLARATIONS = frozenset({"local_variable_declaration", "field_declaration",
                          "constant_declaration"})


def named_type(name: str, start: int = -1, end: int = -1) -> Node:
    return make("Name", start, end, value=name)


def builtin(kind: Node | None) -> str | None:
    """The builtin a type stands for (semgrep conflates boxed and primitive types)."""
    if kind is None or kind.kind != "Name":
        return None
    return BUILTINS.get(str(kind.value))


def alternatives(kind: Node) -> list[Node]:
    """A code type and the shorter spellings it also goes by: ``java.lang.String`` is
    ``String``."""
    if kind.kind == "Attr" and _dotted(kind) in ("java.lang." + str(kind.kids[1].value),):
        return [kind, kind.kids[1]]
    return [kind]


def _dotted(node: Node | None) -> str:
    if node is None:
        return ""
    if node.kind == "Name":
        return str(node.value)
    if node.kind == "Attr":
        return _dotted(node.kids[0]) + "." + _dotted(node.kids[1])
    return "?"


class JavaTyping:
    """The type of expressions in one file (declarations looked up in its grammar tree)."""

    def __init__(self, converter: JavaDefinitions, facts: Facts) -> None:
        self.converter = converter
        self.tree = converter.tree
        self.facts = facts
        self.cache: dict[tuple[int, str], Node | None] = {}

    def type_of(self, node: Node) -> Node | None:
        kind = node.kind
        kids = node.kids
        if kind in ("Str", "Num", "Bool", "Char", "Null"):
            return literal_type(node)
        if kind == "Name":
            return self.name_type(node)
        if kind == "Attr":
            return self.attribute_type(node)
        if kind == "Cast":
            return kids[0]  # type: ignore[no-any-return]
        if kind == "New":
            return kids[0]  # type: ignore[no-any-return]
        if kind == "BinOp":
            return self.binary_type(node)
        if kind == "UnOp" and node.value == "!":
            return named_type("boolean", node.start, node.end)
        if kind == "Call":
            return self.call_type(node)
        if kind == "IfExp":
            then, other = self.type_of(kids[1]), self.type_of(kids[2])
            if then is not None and other is not None and _dotted(then) == _dotted(other):
                return then
            return None
        if kind == "Subscript":
            array = self.type_of(kids[0])
            if array is not None and array.kind == "Type" and array.value == "[]":
                return array.kids[0]  # type: ignore[no-any-return]
        return None

    def binary_type(self, node: Node) -> Node | None:
        op = node.value
        if op in COMPARISONS or op in ("&&", "||"):
            return named_type("boolean", node.start, node.end)
        left, right = (self.type_of(k) if k is not None else None for k in node.kids)
        if op in ("|", "&", "^") and "bool" in (builtin(left), builtin(right)):
            return named_type("boolean", node.start, node.end)
        if op in ("+", "-") and builtin(left) == "int" and builtin(right) == "int":
            return named_type("int", node.start, node.end)
        return None

    def call_type(self, node: Node) -> Node | None:
        func = node.kids[0]
        if func is None or func.kind != "Attr" or func.kids[1].kind != "Name":
            return None
        method = func.kids[1].value
        if method in BOOLEAN_METHODS:
            return named_type("boolean", node.start, node.end)
        if method in ("size", "length"):
            return named_type("int", node.start, node.end)
        receiver = self.type_of(func.kids[0])
        if receiver is None:
            return None
        if method == "get" and receiver.kind == "Type" and receiver.value is None and \
                len(receiver.kids[1]) in (1, 2):
            return receiver.kids[1][-1]  # type: ignore[no-any-return]
        if method == "matches" and _dotted(receiver) in ("String", "java.lang.String"):
            return named_type("boolean", node.start, node.end)
        return None

    def attribute_type(self, node: Node) -> Node | None:
        obj, name = node.kids
        if name is None or name.kind != "Name":
            return None
        if obj is not None and obj.kind == "Name" and obj.value == "this":
            return self.field_type(node.raw, str(name.value))
        if name.value == "length":
            return named_type("int", node.start, node.end)
        return None

    # ---- declarations

    def name_type(self, node: Node) -> Node | None:
        """The declared type of a name where it is used; the name itself when nothing
        declares it."""
        index = node.raw
        if index < 0 or self.tree.kind(index) == "type_identifier":
            return None  # a type written out is no value
        declared = self.declared(index, str(node.value))
        if declared is not None:
            return declared
        if node.value in self.facts.imports():
            return node
        return node if self._undeclared(str(node.value)) else None

    def _undeclared(self, name: str) -> bool:
        """Whether no declaration of the file names ``name`` (then its type is itself)."""
        key = (-1, name)
        if key not in self.cache:
            tree = self.tree
            found = None
            for index in tree.of_kinds(frozenset({"variable_declarator", "formal_parameter",
                                                  "catch_formal_parameter", "resource",
                                                  "enhanced_for_statement"})):
                named = tree.child(index, "name")
                if named is not None and tree.text(named) == name:
                    found = named_type(name)
                    break
            self.cache[key] = found
        return self.cache[key] is None

    def declared(self, index: int, name: str) -> Node | None:
        """The type of the declaration of ``name`` in scope at grammar node ``index``."""
        tree = self.tree
        child, parent = index, tree.parent(index)
        while parent >= 0:
            found = self.declared_in(parent, child, name)
            if found is not None:
                return found
            child, parent = parent, tree.parent(parent)
        return None

    def field_type(self, index: int, name: str) -> Node | None:
        """The type of the field ``name`` of the class enclosing grammar node ``index``."""
        tree = self.tree
        parent = tree.parent(index) if index >= 0 else -1
        while parent >= 0:
            if tree.kind(parent) in CLASS_BODIES:
                return self.declared_in(parent, -1, name)
            parent = tree.parent(parent)
        return None

    def declared_in(self, scope: int, child: int, name: str) -> Node | None:
        tree = self.tree
        kind = tree.kind(scope)
        if kind in SCOPE_STATEMENTS:
            found = None
            for statement in tree.children(scope):
                if statement == child:
                    break
                if tree.kind(statement) in DECLARATIONS:
                    found = self.declaration_type(statement, name) or found
            return found
        if kind in CLASS_BODIES:
            key = (scope, name)
            if key not in self.cache:
                self.cache[key] = self._field_of(scope, name)
            return self.cache[key]
        return self._header_type(scope, child, name)

    def _field_of(self, body: int, name: str) -> Node | None:
        tree = self.tree
        for member in tree.children(body):
            if tree.kind(member) in DECLARATIONS:
                found = self.declaration_type(member, name)
                if found is not None:
                    return found
            elif tree.kind(member) == "enum_body_declarations":
                found = self._field_of(member, name)
                if found is not None:
                    return found
        record = tree.parent(body)
        components = tree.child(record, "parameters") if record >= 0 else None
        if components is not None:
            return self._parameter_type(components, name)
        return None

    def _header_type(self, scope: int, child: int, name: str) -> Node | None:
        """Names a method, lambda, loop, catch or try-with-resources header declares."""
        tree = self.tree
        kind = tree.kind(scope)
        if kind in ("method_declaration", "constructor_declaration", "lambda_expression"):
            params = tree.child(scope, "parameters")
            return self._parameter_type(params, name) if params is not None else None
        if kind == "for_statement":
            for init in tree.children_in(scope, "init"):
                if tree.kind(init) in DECLARATIONS and init != child:
                    return self.declaration_type(init, name)
            return None
        if kind == "enhanced_for_statement":
            declared = tree.child(scope, "name")
            if declared is not None and tree.text(declared) == name:
                return self.converter.node(tree.child(scope, "type"))
            return None
        if kind == "catch_clause":
            return self._parameter_type(scope, name)
        if kind == "try_with_resources_statement":
            resources = tree.child(scope, "resources")
            return self._parameter_type(resources, name) if resources is not None else None
        return None

    def _parameter_type(self, params: int, name: str) -> Node | None:
        tree = self.tree
        for param in self.converter.named(params):
            kind = tree.kind(param)
            if kind in ("formal_parameter", "spread_parameter"):
                converted = self.converter.param(param)
                if converted is not None and converted.kind == "Param" and \
                        converted.kids[0] is not None and converted.kids[0].value == name:
                    declared = converted.kids[1]
                    if kind == "spread_parameter":
                        return make("Type", converted.start, converted.end, declared, (),
                                    value="[]")
                    return declared  # type: ignore[no-any-return]
            elif kind == "resource":
                declared = tree.child(param, "name")
                if declared is not None and tree.text(declared) == name:
                    return self.converter.node(tree.child(param, "type"))
            elif kind == "catch_formal_parameter":
                catch = self.converter.node(params)
                if catch is not None and catch.kind == "Catch" and catch.kids[1] is not None \
                        and catch.kids[1].value == name:
                    return catch.kids[0]  # type: ignore[no-any-return]
        return None

    def declaration_type(self, statement: int, name: str) -> Node | None:
        for var in self.converter.nodes([statement]):
            if var.kind == "VarDef" and var.kids[0] is not None and var.kids[0].value == name:
                declared: Node | None = var.kids[1]
                if declared is not None and declared.kind == "Name" and declared.value == "var":
                    value = var.kids[2]
                    return self.type_of(value) if value is not None else None
                return declared
        return None


def literal_type(node: Node) -> Node | None:
    kind = node.kind
    if kind == "Str":
        name = "String"
    elif kind == "Num":
        name = "float" if isinstance(node.value, float) else "int"
    elif kind == "Bool":
        name = "boolean"
    elif kind == "Char":
        name = "char"
    else:
        return None
    return named_type(name, node.start, node.end)
