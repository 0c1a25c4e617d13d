"""JavaScript / TypeScript imports (and ``require``) to the normalized vocabulary.

``import x from 'm'`` is ``ImportFrom(m, [Alias(default, x)])``, ``import {a as b} from 'm'``
``ImportFrom(m, [Alias(a, b)])``, ``import * as x from 'm'`` ``ImportAs(m, x)``, ``import
'm'`` ``ImportAs(m, None)``, TypeScript's ``import a = b.c`` ``ImportAs(b/c, a)``. A module
path is a ``Dotted`` of its ``/``-separated parts, so ``import 'a'`` is a prefix of ``import
'a/b'``; in a pattern ``"..."`` and ``"$X"`` are an ellipsis and a metavariable.

``const x = require('m')`` stays a declaration; ``import_view`` gives the import it amounts
to, for the import table (facts) and for import patterns (import_patterns.imports, semgrep's
m_directive_vs_def).
"""

from __future__ import annotations

import re

from indexer.match.lang.base import rule
from indexer.match.lang.js_expressions import JsExpressionConverter
from indexer.match.node import Node, make

DECLARATIONS = ("lexical_declaration", "variable_declaration")


class JsModuleConverter(JsExpressionConverter):
    """Imports and the imports ``require`` declarations amount to."""

    @rule("import_alias", makes="ImportAs")
    def import_alias(self, index: int) -> Node:
        """TypeScript's ``import a = b.c``: an ImportAs of the path b/c."""
        named = self.named(index)
        if len(named) < 2:
            return self.other(index)
        value = self.node(named[1])
        parts: list[Node] = []
        while value is not None and value.kind == "Attr":
            parts.insert(0, value.kids[1])
            value = value.kids[0]
        if value is not None:
            parts.insert(0, value)
        return make("ImportAs", *self.span(index), make("Dotted", *self.span(named[1]),
                                                         tuple(parts)), self.node(named[0]))

    @rule("import_statement", makes=("ImportFrom", "ImportAs"))
    def import_statement(self, index: int) -> Node | tuple[Node, ...]:
        tree = self.tree
        source = tree.child(index, "source")
        module = self.module(source if source is not None else index)
        clause = next((c for c in self.named(index) if tree.kind(c) in (
            "import_clause", "import_require_clause")), None)
        if clause is None:
            return make("ImportAs", *self.span(index), module, None)
        if tree.kind(clause) == "import_require_clause":
            inner = tree.child(clause, "source")
            named = self.named(clause)
            return make("ImportAs", *self.span(index), self.module(inner) if inner is not None
                        else module, self.node(named[0]) if named else None)
        return self._import_clause(index, clause, module)

    def _import_clause(self, index: int, clause: int, module: Node) -> Node | tuple[Node, ...]:
        tree = self.tree
        names: list[Node] = []
        out: list[Node] = []
        for part in self.named(clause):
            kind = tree.kind(part)
            if kind == "identifier":
                names.append(make("Alias", *self.span(part),
                                  self.leaf("Name", part, "default"), self.node(part)))
            elif kind == "namespace_import":
                alias = self.named(part)
                out.append(make("ImportAs", *self.span(index), module,
                                self.node(alias[0]) if alias else None))
            elif kind == "named_imports":
                names.extend(self._specifier(s) for s in self.named(part))
        if names or not out:
            out.insert(0, make("ImportFrom", *self.span(index), module, tuple(names)))
        return out[0] if len(out) == 1 else tuple(out)

    def _specifier(self, index: int) -> Node:
        tree = self.tree
        name = tree.child(index, "name")
        found = self.node(name if name is not None else index)
        if found is not None and found.kind == "Ellipsis":
            return found
        return make("Alias", *self.span(index), found, self.node(tree.child(index, "alias")))

    def module(self, index: int) -> Node:
        """A module path: a Dotted of its ``/``-separated parts (``import 'a'`` is a prefix
        of ``import 'a/b'``)."""
        text = self.string_text(index) if self.tree.kind(index) == "string" else \
            self.text(index)
        start, end = self.span(index)
        if self.pattern and text == "...":
            return make("Dotted", start, end, (make("Ellipsis", start, end),))
        if self.pattern and re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", text):
            return make("Dotted", start, end, (make("Metavar", start, end, value=text),))
        return module_path(text, start, end)

    def import_view(self, node: Node) -> Node | None:
        """The import a ``require`` declaration amounts to: ``const x = require('m')`` is
        ``ImportAs(m, x)``, ``const {a, b: c} = require('m')`` ``ImportFrom(m, [a, b as
        c])``; None for any other node."""
        if node.kind != "VarDef":
            return None
        name, _type, value, _attrs = node.kids
        module = required_module(value)
        if module is None or name is None:
            return None
        if name.kind in ("Name", "Metavar"):
            return make("ImportAs", node.start, node.end, module, name)
        if name.kind != "Record":
            return None
        aliases = []
        for field in name.kids[0]:
            if field.kind != "Prop" or field.kids[0].kind != "Name":
                return None
            key, local = field.kids
            same_name = local is not None and local.kind == "Name" and local.value == key.value
            aliases.append(make("Alias", field.start, field.end, key,
                                None if same_name else local))
        return make("ImportFrom", node.start, node.end, module, tuple(aliases))

    def import_views(self) -> list[Node]:
        """The imports the file's ``require`` declarations amount to."""
        out = []
        tree = self.tree
        find, starts, ends = tree.source.find, tree.starts, tree.ends
        for index in tree.of_kinds(frozenset(DECLARATIONS)):
            if find(b"require", starts[index], ends[index]) < 0:
                continue  # (converting every declaration of a file costs more than this)
            for node in self.nodes([index]):
                view = self.import_view(node)
                if view is not None:
                    out.append(view)
        return out


def required_module(value: Node | None) -> Node | None:
    """The module of a ``require('m')`` call (as a Dotted), else None."""
    if value is None or value.kind != "Call":
        return None
    func, args = value.kids
    if func is None or func.kind != "Name" or func.value != "require" or len(args) != 1 or \
            args[0].kind != "Str":
        return None
    return module_path(str(args[0].value), args[0].start, args[0].end)


def module_path(text: str, start: int, end: int) -> Node:
    """A module string as a Dotted of its ``/``-separated parts (a regex string whole)."""
    parts = [text] if text.startswith("=~/") else text.split("/")
    return make("Dotted", start, end, tuple(make("Name", start, end, value=p) for p in parts))
