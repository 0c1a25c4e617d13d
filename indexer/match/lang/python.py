"""tree-sitter-python to the normalized vocabulary."""

from __future__ import annotations

import ast
import re
from typing import Any

from indexer.match.lang.base import DOTS, SUFFIX, Converter, restore_placeholders, rule
from indexer.match.node import Node, make, span_of


class PythonConverter(Converter):
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
    def string_piece(self, index: int) -> Node:
        """A piece of an f-string: an expression of its own, as in semgrep (a piece of a
        plain string is not)."""
        tree = self.tree
        parent = tree.parent(index)
        first = tree.children(parent)[0] if parent >= 0 and tree.children(parent) else None
        prefix = tree.text(first).rstrip("'\"").lower() if first is not None else ""
        if "f" not in prefix:
            return self.leaf("Other", index, ("string_content", tree.text(index)))
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
