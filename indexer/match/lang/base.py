"""What every language converter shares: lazy conversion of a Tree into normalized Nodes.

A converter maps a grammar kind to a rule. A rule gets the node's index and returns a Node
(or a tuple of Nodes, spliced into the enclosing sequence, or None to drop it). Most rules
are declared in ``SIMPLE``: a normalized kind and one spec per kid slot, read from the
grammar's fields when the kids are first needed:

- ``"f"``: the child under field f; ``"f*"``: the named children of that child, as a
  sequence; ``"f+"``: every child under field f, as a sequence; ``"#"``: all named
  children, as a sequence; ``"#0"``, ``"#1"``...: the n-th named child; ``""``: None;
  ``"()"``: an empty sequence.

Grammar kinds without a rule become ``Other`` nodes (grammar kind, children): code compared
kind by kind, as languages without a converter are.

In a pattern, placeholders the pattern compiler wrote for metavariables and ellipses become
pattern-only kinds (``placeholder``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

from indexer.match.node import Node
from indexer.match.tree import Tree

Rule = Callable[["Converter", int], Any]

MV_PREFIX = "_CLMV_"  # $X
MV_SEQ_PREFIX = "_CLMVS_"  # $...X
MV_TYPED_PREFIX = "_CLTMV_"  # (T $X): the type is kept by the pattern compiler
DOTS = "_CLDOTS_"  # ... where the grammar does not take it
DEEP = "_CLDEEP_"  # <... e ...> is written _CLDEEP_(e)
SUFFIX = "\0"  # in a spelling, what follows only makes the pattern parse (not part of it)
PLACEHOLDER = re.compile(r"_CL(?:MV|MVS|TMV)_[A-Z_][A-Z0-9_]*|_CLDOTS_")
COMMENT_KINDS = frozenset({"comment", "line_comment", "block_comment", "html_comment"})
PUNCTUATION = frozenset("( ) [ ] { } , ; : . :: => -> ' \" ` \n".split() + ["\n", ""])


RuleMethod = TypeVar("RuleMethod", bound=Callable[..., Any])


def rule(*kinds: str, makes: str | tuple[str, ...]) -> Callable[[RuleMethod], RuleMethod]:
    """Mark a method as the rule of these grammar kinds, making nodes of ``makes``."""
    def mark(method: RuleMethod) -> RuleMethod:
        method.kinds = kinds  # type: ignore[attr-defined]
        method.makes = (makes,) if isinstance(makes, str) else makes  # type: ignore[attr-defined]
        return method
    return mark


class Converter:
    """Lazy conversion of one tree (code or pattern) into the normalized vocabulary."""

    language: ClassVar[str] = ""
    SIMPLE: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}
    TRANSPARENT: ClassVar[frozenset[str]] = frozenset()  # (x) is x
    WILDCARDS_QUALIFY: ClassVar[bool] = False  # `import a.b.*;` makes `c` maybe `a.b.c`
    TYPE_KINDS: ClassVar[frozenset[str]] = frozenset()  # written types: found by name only
    RULES: ClassVar[dict[str, Rule]] = {}
    MAKES: ClassVar[dict[str, frozenset[str]]] = {}  # normalized kind -> grammar kinds
    NAMING: ClassVar[bool] = False  # whether uses of a name are told apart by declaration

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        rules: dict[str, Rule] = {}
        makes: dict[str, set[str]] = {}
        for base in reversed(cls.__mro__):
            for value in vars(base).values():
                for kind in getattr(value, "kinds", ()):
                    rules[kind] = value
                    for made in value.makes:
                        makes.setdefault(made, set()).add(kind)
        for kind, (made, _slots) in cls.SIMPLE.items():
            makes.setdefault(made, set()).add(kind)
        cls.RULES = rules
        cls.MAKES = {k: frozenset(v) for k, v in makes.items()}

    def __init__(self, tree: Tree, pattern: bool = False) -> None:
        self.tree = tree
        self.pattern = pattern
        self.memo: dict[int, Any] = {}
        self._simple_expand = self._expand_simple
        self._other_expand = self._expand_other

    @classmethod
    def spellings(cls, spellings: list[str]) -> list[str]:
        """The ways to write a pattern (placeholders in) to try in turn, from the pattern
        compiler's: a language may add its own."""
        return spellings

    # ---- entry points

    def node(self, index: int | None) -> Node | None:
        """The normalized node of grammar node ``index`` (memoized; None for None)."""
        if index is None:
            return None
        memo = self.memo
        if index in memo:
            found = memo[index]
        else:
            found = memo[index] = self._convert(index)
        if isinstance(found, tuple):
            return found[0] if found else None
        return found  # type: ignore[no-any-return]

    def nodes(self, indexes: Iterable[int]) -> tuple[Node, ...]:
        """A sequence: each index converted, splices flattened, dropped ones left out."""
        out: list[Node] = []
        memo = self.memo
        for index in indexes:
            if index in memo:
                found = memo[index]
            else:
                found = memo[index] = self._convert(index)
            if found is None:
                continue
            if isinstance(found, tuple):
                out.extend(found)
            else:
                out.append(found)
        return tuple(out)

    def _convert(self, index: int) -> Any:
        tree = self.tree
        kind = tree.kind(index)
        if kind in COMMENT_KINDS:
            return None
        if kind in self.TRANSPARENT:
            inner = self.inner(index)
            return self.node(inner) if inner is not None else self.other(index)
        method = self.RULES.get(kind)
        if method is not None:
            return method(self, index)
        spec = self.SIMPLE.get(kind)
        if spec is not None:
            return Node(spec[0], tree.starts[index], tree.ends[index], None, None,
                        self._simple_expand, index)
        return self.other(index)

    # ---- building blocks for rules

    def lazy(self, kind: str, index: int, expand: Callable[[int], tuple[Any, ...]],
             value: Any = None) -> Node:
        """A node whose kids ``expand(index)`` gives when first read."""
        return Node(kind, self.tree.starts[index], self.tree.ends[index], value, None, expand,
                    index)

    def leaf(self, kind: str, index: int, value: Any) -> Node:
        return Node(kind, self.tree.starts[index], self.tree.ends[index], value, (), None,
                    index)

    def other(self, index: int) -> Node:
        """A grammar node kept as it is: its kind, and for a leaf its text, else the
        operators and keywords among its children (``a + b`` is not ``a - b``)."""
        tree = self.tree
        children = tree.children(index)
        if not children:
            text = tree.text(index)
            if self.pattern and text.startswith("_CL"):
                placeholder = self.placeholder(text, index)
                if placeholder is not None:
                    return placeholder
            return self.leaf("Other", index, (tree.kind(index), text))
        tokens = tuple("" if tree.is_named(c) else tree.text(c) for c in children
                       if tree.is_named(c) or tree.text(c) not in PUNCTUATION)
        return Node("Other", tree.starts[index], tree.ends[index], (tree.kind(index), tokens),
                    None, self._other_expand, index)

    def _expand_other(self, index: int) -> tuple[Any, ...]:
        return (self.nodes(self.named(index)),)

    def _expand_simple(self, index: int) -> tuple[Any, ...]:
        return tuple(self.slot(index, spec)
                     for spec in self.SIMPLE[self.tree.kind(index)][1])

    def slot(self, index: int, spec: str) -> Any:
        """One kid from a ``SIMPLE`` spec (see the module doc)."""
        tree = self.tree
        if not spec:
            return None
        if spec == "()":
            return ()
        if spec == "#":
            return self.nodes(self.named(index))
        if spec[0] == "#":
            named = self.named(index)
            position = int(spec[1:])
            return self.node(named[position]) if position < len(named) else None
        if spec[-1] == "*":
            inner = tree.child(index, spec[:-1])
            return self.nodes(self.named(inner)) if inner is not None else ()
        if spec[-1] == "+":
            return self.nodes(tree.children_in(index, spec[:-1]))
        return self.node(tree.child(index, spec))

    def named(self, index: int) -> list[int]:
        """The named children, comments left out."""
        tree = self.tree
        return [c for c in tree.named_children(index) if tree.kind(c) not in COMMENT_KINDS]

    def inner(self, index: int) -> int | None:
        """The one named child of a wrapper such as ``(x)``."""
        named = self.named(index)
        return named[0] if len(named) == 1 else None

    def text(self, index: int) -> str:
        return self.tree.text(index)

    def ident(self, index: int, kind: str = "Name") -> Node:
        """An identifier, or in a pattern the metavariable or ellipsis it stands for."""
        text = self.tree.text(index)
        if self.pattern and text.startswith("_CL"):
            placeholder = self.placeholder(text, index)
            if placeholder is not None:
                return placeholder
        return self.leaf(kind, index, text)

    def placeholder(self, text: str, index: int) -> Node | None:
        if text == DOTS:
            return self.leaf("Ellipsis", index, None)
        if text.startswith(MV_SEQ_PREFIX):
            return self.leaf("MetavarSeq", index, "$..." + text[len(MV_SEQ_PREFIX):])
        if text.startswith(MV_TYPED_PREFIX):
            return self.leaf("TypedMetavar", index, "$" + text[len(MV_TYPED_PREFIX):])
        if text.startswith(MV_PREFIX):
            return self.leaf("Metavar", index, "$" + text[len(MV_PREFIX):])
        return None

    def span(self, index: int) -> tuple[int, int]:
        return self.tree.starts[index], self.tree.ends[index]

    # ---- what the search needs to know of a language

    NON_EXPRESSION: ClassVar[frozenset[tuple[str, str]]] = frozenset()
    # places whose node is not a candidate at all: its parent stands for it (a decorated
    # function's inner definition)
    SHADOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset()
    # NON_EXPRESSION places where a name is nonetheless a variable being defined
    # (parameters): a metavariable bound there equals the uses of that variable
    DEFINES: ClassVar[frozenset[str]] = frozenset()

    def position(self, index: int) -> tuple[str, str]:
        """(parent grammar kind, field) of a node; ("", "") for the root."""
        tree = self.tree
        parent = tree.parent(index)
        return (tree.kind(parent), tree.field_of(index)) if parent >= 0 else ("", "")

    # grammar kinds whose node takes in sibling nodes before it (a class member and the
    # decorators written above it): their own text may lack words of a pattern they match
    ABSORBING: ClassVar[frozenset[str]] = frozenset()

    # grammar kinds that open a scope of local variables (functions, lambdas)
    SCOPES: ClassVar[frozenset[str]] = frozenset()

    # places of expressions written in a decorator or annotation: with the rule option
    # `attr_expr: false` they are not expressions
    ATTRIBUTE_EXPRESSIONS: ClassVar[frozenset[tuple[str, str]]] = frozenset()

    def in_attribute(self, index: int) -> bool:
        return bool(self.ATTRIBUTE_EXPRESSIONS) and \
            self.position(index) in self.ATTRIBUTE_EXPRESSIONS

    def shadowed(self, index: int) -> bool:
        return bool(self.SHADOWED) and self.position(index) in self.SHADOWED

    def is_variable(self, index: int) -> bool:
        """Whether a name node refers to a variable (not a field, a keyword...)."""
        kind, field = self.position(index)
        if (kind, field) not in self.NON_EXPRESSION and (kind, "*") not in self.NON_EXPRESSION:
            return True
        return kind in self.DEFINES

    def in_expression(self, index: int) -> bool:
        """Whether a grammar node stands where an expression does (not a definition's name,
        an attribute's field, an import's path...). ``NON_EXPRESSION`` lists (parent kind,
        field) places that are not; field "*" is any."""
        if not self.NON_EXPRESSION:
            return True
        tree = self.tree
        parent = tree.parent(index)
        if parent < 0:
            return True
        kind = tree.kind(parent)
        return (kind, tree.field_of(index)) not in self.NON_EXPRESSION and (
            kind, "*") not in self.NON_EXPRESSION

    def infer_type(self, node: Node, facts: Any) -> Node | None:
        """The type of an expression as the language knows it (None: ask the generic
        rules of facts.py)."""
        return None

    def type_alternatives(self, known: Node) -> list[Node]:
        """A code type and the other spellings a pattern may use for it."""
        return [known]

    def builtin_type(self, kind: Node) -> str | None:
        """The builtin a written type stands for, when spellings of it are alike
        (Java's ``int`` and ``Integer``)."""
        return None

    def outer_constant(self, node: Node, constants: Any) -> Node | None:
        """The constant a name (or ``this.x``) holds from outside the functions of the
        file, as the language has it (Java's fields), or None."""
        return None

    def import_path(self, module: Node | None) -> tuple[str, ...] | None:
        """The qualified name an aliased import stands for when the language does not
        spell it by the module's parts (None: by its parts)."""
        return None

    def expression_type(self, node: Node, type_of: Callable[[Node], Node | None]
                        ) -> Node | None:
        """The type of an expression that the language's own rules tell (``type_of``
        gives the type of a sub-expression), or None."""
        return None

    def candidates(self, kind: str) -> frozenset[str]:
        """The grammar kinds a node of normalized ``kind`` can come from."""
        return self.MAKES.get(kind, frozenset())

    # ---- what the pattern compiler and the facts may ask of a language

    @classmethod
    def pattern_wrappers(cls, text: str) -> list[tuple[str, str]]:
        """(before, after) texts to try a pattern's text between, in order."""
        return [("", "")]

    @classmethod
    def pattern_grammars(cls, language: str) -> tuple[str, ...]:
        """The grammars a pattern of ``language`` may be parsed with, in order."""
        return (language,)

    @classmethod
    def pattern_source(cls, text: str) -> str:
        """A pattern's text as the compiler should read it (comments dropped...)."""
        return text

    def declaring_scope(self, name: Node) -> int | None:
        """Which scope declares a name use (a grammar index), when the language says (None:
        names are compared by spelling alone)."""
        return None

    def import_view(self, node: Node) -> Node | None:
        """The import statement a non-import node amounts to (JavaScript's ``const x =
        require('m')``), or None."""
        return None

    def import_views(self) -> list[Node]:
        """``import_view`` of every node of the file that has one."""
        return []


def restore_placeholders(text: str) -> str:
    """Undo the pattern compiler's spelling of metavariables inside string contents."""
    if "_CL" not in text:
        return text
    text = re.sub(r"_CLMVS_([A-Z_][A-Z0-9_]*)", r"$...\1", text)
    text = re.sub(r"_CLMV_([A-Z_][A-Z0-9_]*)", r"$\1", text)
    return text.replace(DOTS, "...")
