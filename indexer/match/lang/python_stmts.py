"""tree-sitter-python's statements, definitions and imports to the normalized vocabulary
(the expressions are python.py's; PythonConverter is both)."""

from __future__ import annotations

from typing import Any

from indexer.match.lang.base import Converter, rule
from indexer.match.node import Node, make, span_of


class PythonStatements(Converter):
    """Statements, definitions and imports (a base of python.PythonConverter)."""

    @rule("expression_statement", makes=("ExprStmt", "Assign", "VarDef", "AugAssign"))
    def expression_statement(self, index: int) -> Node | None:
        named = self.named(index)
        if len(named) == 1:
            return self.lazy("ExprStmt", index, self._statement_expression)
        return self.lazy("ExprStmt", index, self._statement_tuple)

    def _statement_expression(self, index: int) -> tuple[Any, ...]:
        return (self.node(self.named(index)[0]),)

    def _statement_tuple(self, index: int) -> tuple[Any, ...]:
        items = self.nodes(self.named(index))
        return (make("Container", *span_of(items), items, value="tuple"),)

    @rule("if_statement", "elif_clause", makes="If")
    def if_statement(self, index: int) -> Node:
        return self.lazy("If", index, self._if)

    def _if(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        rest = [c for c in tree.children(index) if tree.kind(c) in ("elif_clause", "else_clause")]
        if tree.kind(index) == "elif_clause":  # an elif's own else comes from its if: none here
            rest = []
        return (self.node(tree.child(index, "condition")),
                self.node(tree.child(index, "consequence")), self._else_chain(index, rest))

    def _else_chain(self, index: int, rest: list[int]) -> Node | None:
        """elif a: ... elif b: ... else: ... as nested Ifs, the way the code reads."""
        if not rest:
            return None
        first = rest[0]
        if self.tree.kind(first) == "else_clause":
            return self.node(first)
        tree = self.tree
        nested = self.node(first)
        assert nested is not None
        tail = self._else_chain(index, rest[1:])
        kids = (self.node(tree.child(first, "condition")),
                self.node(tree.child(first, "consequence")), tail)
        end = tail.end if tail is not None else nested.end
        return Node("If", nested.start, end, None, kids, None, first)

    @rule("for_statement", makes="For")
    def for_statement(self, index: int) -> Node:
        return self.lazy("For", index, self._for, "in")

    def _for(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        return (self.node(tree.child(index, "left")), self.node(tree.child(index, "right")),
                self.node(tree.child(index, "body")), self.node(tree.child(index, "alternative")))

    @rule("try_statement", makes="Try")
    def try_statement(self, index: int) -> Node:
        return self.lazy("Try", index, self._try)

    def _try(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        handlers, other, final = [], None, None
        for child in tree.children(index):
            kind = tree.kind(child)
            if kind in ("except_clause", "except_group_clause"):
                handlers.append(child)
            elif kind == "else_clause":
                other = self.node(child)
            elif kind == "finally_clause":
                final = self.node(child)
        return self.node(tree.child(index, "body")), self.nodes(handlers), other, final

    @rule("except_clause", "except_group_clause", makes="Catch")
    def except_clause(self, index: int) -> Node:
        return self.lazy("Catch", index, self._except)

    def _except(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        named = self.named(index)
        body = next((c for c in named if tree.kind(c) == "block"), None)
        value = tree.child(index, "value")
        if value is None:
            value = next((c for c in named if c != body), None)
        name = None
        if value is not None and tree.kind(value) == "as_pattern":
            target = tree.child(value, "alias")
            name = self.node(self.inner(target)) if target is not None else None
            value = self.named(value)[0]
        alias = tree.child(index, "alias")  # older grammars: except E, e
        if alias is not None and name is None:
            name = self.node(alias)
        return self._exception_types(value), name, self.node(body)

    def _exception_types(self, value: int | None) -> Node | None:
        """``except E`` and ``except (E, F)`` alike: a tuple of the exception types."""
        caught = self.node(value)
        if caught is None or (caught.kind == "Container" and caught.value == "tuple"):
            return caught
        return make("Container", caught.start, caught.end, (caught,), value="tuple")

    @rule("with_item", makes="WithItem")
    def with_item(self, index: int) -> Node:
        return self.lazy("WithItem", index, self._with_item)

    def _with_item(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        value = tree.child(index, "value")
        if value is not None and tree.kind(value) == "as_pattern":
            target = tree.child(value, "alias")
            return (self.node(self.named(value)[0]),
                    self.node(self.inner(target)) if target is not None else None)
        return self.node(value), None

    @rule("with_statement", makes="With")
    def with_statement(self, index: int) -> Node:
        return self.lazy("With", index, self._with)

    def _with(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        clause = next((c for c in tree.children(index) if tree.kind(c) == "with_clause"), None)
        items = self.nodes(self.named(clause)) if clause is not None else ()
        return items, self.node(tree.child(index, "body"))

    @rule("function_definition", makes="FuncDef")
    def function(self, index: int) -> Node:
        is_async = any(self.tree.kind(c) == "async" for c in self.tree.children(index))
        return self.lazy("FuncDef", index, self._function, "async" if is_async else None)

    def _function(self, index: int, decorators: tuple[Node, ...] = ()) -> tuple[Any, ...]:
        tree = self.tree
        params = tree.child(index, "parameters")
        return (self.node(tree.child(index, "name")), self._params(params),
                self.node(tree.child(index, "return_type")), self.node(tree.child(index, "body")),
                decorators, ())

    def _params(self, index: int | None) -> tuple[Node, ...]:
        if index is None:
            return ()
        out = []
        for child in self.named(index):
            param = self.param(child)
            if param is not None:
                out.append(param)
        return tuple(out)

    def param(self, index: int) -> Node | None:
        tree = self.tree
        kind = tree.kind(index)
        if kind in ("positional_separator", "keyword_separator"):
            return None
        if kind == "identifier":
            name = self.ident(index)
            if name.kind in ("Ellipsis", "MetavarSeq"):
                return name
            return make("Param", name.start, name.end, name, None, None, (), value="")
        if kind in ("typed_parameter", "default_parameter", "typed_default_parameter"):
            named = self.named(index)
            name_index = tree.child(index, "name")
            if name_index is None and named:
                name_index = named[0]
            inner = self.param(name_index) if name_index is not None else None
            flavour = inner.value if inner is not None and inner.kind == "Param" else ""
            bare = inner.kids[0] if inner is not None and inner.kind == "Param" else inner
            return Node("Param", tree.starts[index], tree.ends[index], flavour,
                        (bare, self.node(tree.child(index, "type")),
                         self.node(tree.child(index, "value")), ()), None, index)
        if kind in ("list_splat_pattern", "dictionary_splat_pattern"):
            named = self.named(index)
            splat = self.node(named[0]) if named else None
            return Node("Param", tree.starts[index], tree.ends[index],
                        "*" if kind == "list_splat_pattern" else "**", (splat, None, None, ()),
                        None, index)
        found = self.node(index)  # tuple parameters (Python 2), and anything else
        return found

    @rule("decorated_definition", makes=("FuncDef", "ClassDef"))
    def decorated(self, index: int) -> Node | None:
        tree = self.tree
        definition = tree.child(index, "definition")
        if definition is None:
            return self.other(index)
        inner = self.node(definition)
        if inner is None:
            return None
        decorators = self.nodes(c for c in tree.children(index) if tree.kind(c) == "decorator")
        kids = list(inner.kids)
        kids[4] = decorators
        return Node(inner.kind, tree.starts[index], tree.ends[index], inner.value, tuple(kids),
                    None, index)

    @rule("class_definition", makes="ClassDef")
    def class_definition(self, index: int) -> Node:
        return self.lazy("ClassDef", index, self._class, "class")

    def _class(self, index: int) -> tuple[Any, ...]:
        tree = self.tree
        bases = tree.child(index, "superclasses")
        return (self.node(tree.child(index, "name")),
                self.nodes(self.named(bases)) if bases is not None else (), (),
                self.node(tree.child(index, "body")), (), ())

    @rule("import_statement", makes="ImportAs")
    def import_statement(self, index: int) -> tuple[Node, ...]:
        return tuple(self._import_as(name) for name in self.tree.children_in(index, "name"))

    def _import_as(self, index: int) -> Node:
        tree = self.tree
        if tree.kind(index) == "aliased_import":
            module, alias = tree.child(index, "name"), tree.child(index, "alias")
            path = self.dotted(module) if module is not None else None
            return make("ImportAs", *self.span(index), path, self.node(alias))
        return make("ImportAs", *self.span(index), self.dotted(index), None)

    @rule("import_from_statement", "future_import_statement",
          makes=("ImportFrom", "ImportAll"))
    def import_from(self, index: int) -> Node:
        tree = self.tree
        module_index = tree.child(index, "module_name")
        module = self.dotted(module_index) if module_index is not None else make(
            "Dotted", *self.span(index), (self.leaf("Name", index, "__future__"),))
        if any(tree.kind(c) == "wildcard_import" for c in tree.children(index)):
            return Node("ImportAll", *self.span(index), None, (module,), None, index)
        names = []
        for name in tree.children_in(index, "name"):
            if tree.kind(name) == "aliased_import":
                names.append(make("Alias", *self.span(name),
                                  self._last_name(tree.child(name, "name")),
                                  self.node(tree.child(name, "alias"))))
            else:
                names.append(make("Alias", *self.span(name), self._last_name(name), None))
        return Node("ImportFrom", *self.span(index), None, (module, tuple(names)), None, index)

    def _last_name(self, index: int | None) -> Node | None:
        """``from m import a`` names ``a``: a dotted_name of one identifier."""
        if index is None:
            return None
        dotted = self.dotted(index)
        parts = dotted.kids[0]
        return parts[0] if len(parts) == 1 else dotted

    def dotted(self, index: int) -> Node:
        """A module path as a Dotted of Names (a relative import keeps its dots as a Name)."""
        tree = self.tree
        parts: list[Node] = []
        stack = [index]
        while stack:
            current = stack.pop()
            kind = tree.kind(current)
            if kind == "identifier":
                parts.append(self.ident(current))
            elif kind == "import_prefix":
                parts.append(self.leaf("Name", current, tree.text(current)))
            else:
                stack.extend(reversed(self.named(current)))
        return make("Dotted", *self.span(index), tuple(parts))
