"""Per-file facts the matcher consults: imports (a local name -> the qualified name it stands
for), constants (a name assigned once from a literal -> that literal) and declared types.

Each table is built the first time it is needed, from the nodes of the few grammar kinds
that can hold such facts, so a file whose matching never asks pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from indexer.match.node import LITERALS, Node, make, walk

if TYPE_CHECKING:
    from indexer.match.lang.base import Converter

LITERAL_TYPES = {  # "Float": a Num whose value is a float
    "python": {"Str": "str", "Num": "int", "Float": "float", "Bool": "bool"},
    "java": {"Str": "String", "Num": "int", "Float": "double", "Bool": "boolean",
             "Char": "char"},
    "go": {"Str": "string", "Num": "int", "Float": "float", "Bool": "bool"},
    "javascript": {"Str": "string", "Num": "number", "Bool": "boolean"},
    "typescript": {"Str": "string", "Num": "number", "Bool": "boolean"},
    "tsx": {"Str": "string", "Num": "number", "Bool": "boolean"},
}


class Facts:
    """What is known of one file's names."""

    def __init__(self, converter: Converter) -> None:
        self.converter = converter
        self.language = converter.language
        self._imports: dict[str, tuple[str, ...]] | None = None
        self._constants: Any = None
        self._types: dict[str, Node] | None = None
        self._resolved: dict[tuple[int, bool], Node | None] = {}
        self._wildcards: list[tuple[str, ...]] | None = None
        self._qualifying: list[tuple[str, ...]] | None = None
        self._naming_table: Any = None
        self._aliasable: frozenset[str] | None = None

    def nodes_of(self, *kinds: str) -> list[Node]:
        """The nodes of these normalized kinds in the file (converted on demand)."""
        converter = self.converter
        wanted: set[str] = set()
        for kind in kinds:
            wanted |= converter.candidates(kind)
        found: list[Node] = []
        for index in converter.tree.of_kinds(wanted):  # nodes(): splices too
            found.extend(n for n in converter.nodes([index]) if n.kind in kinds)
        return found

    # ---- imports

    def imports(self) -> dict[str, tuple[str, ...]]:
        if self._imports is None:
            self._imports = import_table(self.nodes_of("ImportAs", "ImportFrom") +
                                         self.converter.import_views(),
                                         self.converter.import_path)
        return self._imports

    def resolve(self, name: Node, wildcard: bool = False) -> Node | None:
        """What an imported name stands for, as the dotted expression it abbreviates, made
        at the name's place; None for names that are not imported aliases."""
        key = (id(name), wildcard)
        if key in self._resolved:
            return self._resolved[key]
        path = self.imports().get(name.value) if name.kind == "Name" else None
        if path is None and wildcard and name.kind == "Name" and self.wildcards() and \
                self.variable(name) == -1:
            path = self.wildcards()[0] + (name.value,)  # from m import *: m's name
        resolved = None
        if path is not None and path != (name.value,):
            resolved = dotted_expression(path, name.start, name.end)
        self._resolved[key] = resolved
        return resolved

    def aliasable_words(self) -> frozenset[str]:
        """Words of qualified names this file can spell otherwise: every part of an
        imported path but the local name it is imported as, and the parts of wildcard
        imports (search.py's node needles leave them out)."""
        if self._aliasable is None:
            words: set[str] = set()
            for local, path in self.imports().items():
                words.update(part for part in path if part != local)
            for statement in self.nodes_of("ImportAll"):
                words.update(_path(statement.kids[0]) or ())
            self._aliasable = frozenset(words)
        return self._aliasable

    def wildcards(self) -> list[tuple[str, ...]]:
        """The modules imported with ``*``."""
        if self._wildcards is None:
            found = []
            tree = self.converter.tree
            for statement in self.nodes_of("ImportAll"):
                if statement.raw < 0 or tree.parent(statement.raw) != 0:
                    continue  # only the module's own wildcard imports count
                path = _path(statement.kids[0])
                if path and not path[0].startswith("."):
                    found.append(path)
            self._wildcards = found
        return self._wildcards

    def symbol(self, name: Node) -> Node | None:
        """The expression a name holds by symbolic propagation, if one."""
        found: Node | None = self._constants_analysis().symbol(name)
        return found

    def variable(self, name: Node) -> int | None:
        """Which variable a name refers to (constants.py), None when not a variable."""
        return self._constants_analysis().variable(name)

    def _constants_analysis(self) -> Any:
        if self._constants is None:
            from indexer.match.constants import Constants

            self._constants = Constants(self)
        return self._constants

    def resolutions(self, name: Node) -> list[Node]:
        """What a name may stand for: its import, else (in languages whose wildcard
        imports qualify names, as Java's ``import a.b.*;``) each wildcard's ``a.b.name``."""
        resolved = self.resolve(name)
        if resolved is not None:
            return [resolved]
        if name.kind != "Name" or not self.converter.WILDCARDS_QUALIFY:
            return []
        if self._qualifying is None:
            self._qualifying = [path for path in (_path(node.kids[0]) for node in
                                                  self.nodes_of("ImportAll")) if path]
        return [dotted_expression((*path, name.value), name.start, name.end)
                for path in self._qualifying]

    def same_variable(self, a: Node, b: Node) -> bool:
        """Whether two uses of a name may refer to the same declaration (naming.py; always
        for languages whose converter does not ask for ``NAMING``)."""
        if not self.converter.NAMING:
            return True
        return bool(self._naming().same(a, b))

    def _naming(self) -> Any:
        if self._naming_table is None:
            from indexer.match.naming import Naming

            self._naming_table = Naming(self.converter.node(0))
        return self._naming_table

    # ---- constants

    def constant(self, node: Node) -> Node | None:
        """The literal an expression is known to hold where it is (constants.py), or a Str
        of value None when it is known to be a string but not which."""
        if node.kind in LITERALS:
            return node
        if node.kind in ("Text", "Span", "Metavar"):
            return None
        found: Node | None = self._constants_analysis().value(node)
        return found

    # ---- types

    def type_of(self, node: Node) -> Node | None:
        """The declared (or literal) type of an expression, when known."""
        inferred = self.converter.infer_type(node, self)
        if inferred is not None:
            return inferred
        literals = LITERAL_TYPES.get(self.language, {})
        kind = "Float" if node.kind == "Num" and isinstance(node.value, float) else node.kind
        literal = literals.get(kind) or literals.get(node.kind)
        if literal is not None:
            return make("Name", node.start, node.end, value=literal)
        inferred = self.converter.expression_type(node, self.type_of)
        if inferred is not None:
            return inferred
        if node.kind == "Name" and self.converter.NAMING:
            declaration = self._naming().declaration(node)
            if declaration is not None:  # its own declaration's type, or none known
                declared, value = declaration
                return declared if declared is not None or value is None else \
                    self.type_of(value)
        if node.kind == "Name":
            if self._types is None:
                self._types = {}  # names met while building it have no type yet
                self._types = declared_types(self)
            return self._types.get(node.value)
        if node.kind == "New":
            return node.kids[0]
        return None


def import_table(statements: list[Node],
                 path_of: Callable[[Node | None], tuple[str, ...] | None] | None = None
                 ) -> dict[str, tuple[str, ...]]:
    """Local name -> qualified name; ``path_of`` tells what an aliased module stands for
    when the language does not name it by its parts."""
    table: dict[str, tuple[str, ...]] = {}
    for statement in statements:
        if statement.kind == "ImportAs":
            module, alias = statement.kids
            path = (path_of(module) if path_of is not None else None) or _path(module)
            if path and alias is not None and alias.kind == "Name":
                table[alias.value] = path
        elif statement.kind == "ImportFrom":
            module, names = statement.kids
            base = _path(module)
            if base is None:
                continue
            for item in names:
                name, alias = item.kids
                if name is None or name.kind != "Name":
                    continue
                local = alias.value if alias is not None and alias.kind == "Name" else name.value
                table[local] = base + (name.value,)
    return table


def _path(module: Node | None) -> tuple[str, ...] | None:
    if module is None or module.kind != "Dotted":
        return None
    parts = []
    for part in module.kids[0]:
        if part.kind != "Name":
            return None
        parts.append(part.value)
    return tuple(parts)


def dotted_expression(path: tuple[str, ...], start: int, end: int) -> Node:
    """``a.b.c`` as Attr(Attr(Name a, b), c), every node at the given span."""
    result = make("Name", start, end, value=path[0])
    for part in path[1:]:
        result = make("Attr", start, end, result, make("Name", start, end, value=part))
    return result


def declared_types(facts: Facts) -> dict[str, Node]:
    """Names declared with a type: variables and parameters; a variable declared without
    one (``var x = e``, ``x := e``) has the type of its value, when that is known (as
    semgrep's naming does)."""
    types: dict[str, Node] = {}

    def note(name: Node | None, declared: Node | None) -> None:
        if name is not None and name.kind == "Name" and declared is not None:
            types.setdefault(name.value, declared)

    for node in facts.nodes_of("VarDef"):
        name, declared, value, _attrs = node.kids
        if declared is None and value is not None:
            declared = facts.type_of(value)
        note(name, declared)
    literal_types = LITERAL_TYPES.get(facts.language, {})
    for node in facts.nodes_of("Assign"):  # x = 1 declares x where assignments do
        target, value = node.kids
        if value is not None and value.kind in literal_types:
            note(target, make("Name", value.start, value.end,
                              value=literal_types[value.kind]))
    for node in facts.nodes_of("FuncDef"):
        for param in node.kids[1]:
            if param.kind == "Param":
                note(param.kids[0], param.kids[1])
    for node in facts.nodes_of("ExprStmt"):
        inner = node.kids[0]
        if inner is not None and inner.kind == "Assign" and inner.value == ":=" and \
                inner.kids[1] is not None:
            note(inner.kids[0], facts.type_of(inner.kids[1]))
    return types


def _definition(node: Node) -> tuple[Node | None, Node | None]:
    kind = node.kind
    if kind == "VarDef":
        return node.kids[0], node.kids[2]
    if kind == "Assign":
        return node.kids[0], node.kids[1]
    if kind in ("AugAssign", "For", "Param"):
        return node.kids[0], None
    if kind == "UnOp" and str(node.value)[:2] in ("++", "--"):
        return node.kids[0], None
    return None, None


def _names_in(target: Node) -> list[str]:
    return [str(n.value) for n in walk(target) if n.kind == "Name"]
