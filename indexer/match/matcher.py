"""A pattern node against a code node, with semgrep's semantics (its Generic_vs_generic).

Every ``m*`` method is a generator of environments: each way the pattern can match binds
metavariables differently, and the caller tries them in turn (backtracking by iteration).
An environment is a dict from metavariable name to what it bound: a Node, a tuple of Nodes
(``$...X``), or a Node of kind ``Text`` (``"$X"`` inside a string). Recursion follows the
pattern, which the compiler bounds in depth; the code side is walked with explicit stacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from indexer.match import equiv, operators, subnodes
from indexer.match.facts import Facts
from indexer.match.node import LITERALS, Node, iter_kids, make
from indexer.match.statements import Statements

Env = dict[str, Any]
REGEX_STRING = re.compile(r"^=~/(.*)/([im]*)$", re.S)
METAVARIABLE_SEQ = re.compile(r"\$\.\.\.[A-Z_][A-Z0-9_]*")
# slots where a pattern that says nothing (None) matches code that says something
LOOSE_SLOTS = frozenset({
    ("FuncDef", 2), ("If", 2), ("Param", 1), ("Param", 2), ("VarDef", 1), ("Try", 2),
    ("Try", 3), ("Catch", 1), ("Catch", 0), ("Return", 0), ("Throw", 1), ("For", 3),
    ("While", 2), ("Yield", 0), ("New", 2), ("ClassDef", 5), ("FuncDef", 5), ("Type", 1),
    ("Alias", 1), ("ImportAs", 1), ("Break", 0), ("Continue", 0)})
# sequence slots where a pattern's elements may appear anywhere among the code's, and more
UNORDERED = frozenset({("FuncDef", 4), ("ClassDef", 4), ("VarDef", 3), ("Param", 3),
                       ("ClassDef", 2), ("ImportFrom", 1), ("Switch", 1), ("Try", 1)})
ORDERED_LESS_OK = frozenset({("ClassDef", 1)})  # parents: a prefix is enough
NOT_SYMBOLIC = LITERALS | {"Metavar", "MetavarSeq", "TypedMetavar", "Ellipsis", "DeepEllipsis",
                           "Regex"}
MAX_SYMBOLIC_DEPTH = 20  # names followed through what they were assigned
FIELDS = frozenset({("ClassDef", 3)})  # a Block of members: any order, more allowed


class Matcher(Statements):
    """Matches patterns against the code of one file (its facts: imports, constants)."""

    def __init__(self, facts: Facts, options: dict[str, Any] | None = None) -> None:
        self.facts = facts
        self.options = options or {}
        self.roots: set[int] = set()
        self._roots: dict[int, set[int]] = {}
        self.symbolic_depth = 0

    def option(self, name: str, default: bool = True) -> bool:
        """A rule option (semgrep's ``options:``), ``default`` unless the rule says."""
        return bool(self.options.get(name, default))

    def constant(self, t: Node) -> Node | None:
        """What constant propagation knows of ``t`` (nothing when the rule turns it off)."""
        if not self.option("constant_propagation"):
            return t if t.kind in LITERALS else None
        return self.facts.constant(t)

    # ---- entry: any pattern node against any code node

    def m(self, p: Any, t: Any, env: Env) -> Iterator[Env]:
        if p is None:
            if t is None:
                yield env
            return
        if isinstance(p, tuple):
            if isinstance(t, tuple):
                yield from self.seq(p, t, env)
            return
        if t is None:
            if p.kind == "Ellipsis":
                yield env
            return
        handler = DISPATCH.get(p.kind)
        if handler is not None:
            yield from handler(self, p, t, env)
        else:
            yield from self.m_generic(p, t, env)
        if t.kind == "Name" and p.kind not in NOT_SYMBOLIC and id(p) not in self.roots and \
                self.options.get("symbolic_propagation"):
            yield from self.m_symbolic(p, t, env)

    def m_symbolic(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """A name against the pattern through the expression it was assigned (semgrep's
        symbolic propagation, never at the pattern's root)."""
        symbol = self.facts.symbol(t)
        if symbol is None or self.symbolic_depth >= MAX_SYMBOLIC_DEPTH:
            return
        self.symbolic_depth += 1
        try:
            yield from self.m(p, symbol, env)
        finally:
            self.symbolic_depth -= 1

    def set_roots(self, pattern: Node) -> None:
        """The pattern nodes matched as roots (the top, an expression statement's
        expression, a deep ellipsis' expression): no symbolic propagation there."""
        roots = self._roots.get(id(pattern))
        if roots is None:
            roots = {id(pattern)}
            stack = [pattern]
            while stack:
                node = stack.pop()
                if node.kind in ("ExprStmt", "DeepEllipsis") and node.kids[0] is not None:
                    roots.add(id(node.kids[0]))
                stack.extend(iter_kids(node))
            self._roots[id(pattern)] = roots
        self.roots = roots

    def m_generic(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """Same kind, same value, kids matched slot by slot."""
        if p.kind != t.kind:
            yield from equiv.cross_kind(self, p, t, env)
            return
        if p.value != t.value and not equiv.values_agree(p, t, self.option):
            return
        yield from self.kids(p, t, env)

    def kids(self, p: Node, t: Node, env: Env, start: int = 0) -> Iterator[Env]:
        pk, tk = p.kids, t.kids
        if len(pk) != len(tk):
            return
        yield from self._slots(p.kind, pk, tk, start, env)

    def _slots(self, kind: str, pk: tuple[Any, ...], tk: tuple[Any, ...], i: int,
               env: Env) -> Iterator[Env]:
        if i == len(pk):
            yield env
            return
        a, b = pk[i], tk[i]
        if a is None and (kind, i) in LOOSE_SLOTS:
            yield from self._slots(kind, pk, tk, i + 1, env)
            return
        if (kind, i) in FIELDS and isinstance(a, Node) and isinstance(b, Node) and \
                a.kind == b.kind == "Block":
            matches = self.fields(a.kids[0], b.kids[0], env)
        elif isinstance(a, tuple):
            if not isinstance(b, tuple):
                return
            if (kind, i) in UNORDERED:
                matches = self.unordered(a, b, env, less_ok=True)
            elif (kind, i) in ORDERED_LESS_OK:
                matches = self.seq(a, b, env, less_ok=True)
            else:
                matches = self.seq(a, b, env)
        else:
            matches = self.m(a, b, env)
        for found in matches:
            yield from self._slots(kind, pk, tk, i + 1, found)

    # ---- metavariables and ellipses

    def bind(self, name: str, value: Any, env: Env) -> Iterator[Env]:
        """Bind ``name``, or check it against what it already bound."""
        bound = env.get(name)
        if bound is None:
            if name == "$_":
                yield env
                return
            grown = dict(env)
            grown[name] = value
            yield grown
        elif equiv.same_binding(bound, value, self.facts):
            yield env

    def m_metavar(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind in ("ExprStmt",) and p.value not in env:
            yield from self.bind(p.value, t, env)
            return
        yield from self.bind(p.value, t, env)
        if t.kind == "Cast" and p.value in env:  # a bound $X also matches (T) x
            yield from self.bind(p.value, t.kids[1], env)

    def m_ellipsis(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        yield env

    def m_typed(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        for found in equiv.type_matches(self, p.kids[0], t, env):
            yield from self.bind(p.value, t, found)

    def m_deep(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """``<... e ...>``: e matches the code or any expression inside it (a declaration
        with a value as the assignment it makes)."""
        inner = p.kids[0]
        if t.kind == "VarDef":
            view = equiv.vardef_as_assign(t) if self.option("vardef_assign") else None
            if view is None:
                return
            t = view
        symbolic = self.options.get("symbolic_propagation")
        seen: set[int] = set()
        stack = [t]
        while stack:
            for sub in subnodes.subexpressions(stack.pop(), deep=True):
                yield from self.m(inner, sub, env)
                if symbolic and sub.kind == "Name" and id(sub) not in seen and \
                        len(seen) < MAX_SYMBOLIC_DEPTH:
                    seen.add(id(sub))
                    symbol = self.facts.symbol(sub)
                    if symbol is not None:  # what a name stands for is inside too
                        stack.append(symbol)

    # ---- names, attributes, calls

    def m_name(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind == "Name":
            if _name_equal(p.value, t.value):
                yield env
            else:
                resolved = self.facts.resolve(t)
                if resolved is not None:
                    yield from self.m(p, resolved, env)
            return
        if t.kind in ("Attr", "Type"):
            return
        yield from equiv.cross_kind(self, p, t, env)

    def m_attr(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        pobj, pname = p.kids
        if t.kind == "Attr":
            tobj, tname = t.kids
            for found in self.m_field_name(pname, tname, env):
                yield from self.m(pobj, tobj, found)
            return
        if t.kind == "Name":
            resolutions = self.facts.resolutions(t)
            wildcard = self.facts.resolve(t, wildcard=_plain_dotted(p)) if not resolutions \
                else None
            for resolved in resolutions + ([wildcard] if wildcard is not None else []):
                yield from self.m(p, resolved, env)
            return
        yield from equiv.cross_kind(self, p, t, env)

    def m_field_name(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if p.kind == "Name" and t.kind == "Name":
            if _name_equal(p.value, t.value):
                yield env
            return
        yield from self.m(p, t, env)

    def m_call(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Call":
            yield from equiv.cross_kind(self, p, t, env)
            return
        pfunc, pargs = p.kids
        tfunc, targs = t.kids
        for found in self.m(pfunc, tfunc, env):
            yield from self.args(pargs, targs, found)

    def m_new(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "New":
            return
        pcls, pargs, pbody = p.kids
        tcls, targs, tbody = t.kids
        for found in self.m(pcls, tcls, env):
            for found2 in self.args(pargs, targs, found):
                if pbody is None:
                    if tbody is None:  # an anonymous class is not a plain `new`
                        yield found2
                else:
                    yield from self.m(pbody, tbody, found2)

    def m_kwarg(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Kwarg":
            return
        yield from self.kids(p, t, env)

    # ---- literals

    def m_str(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        value = p.value
        if t.kind == "Str":
            yield from self.string_content(value, t, env)
            return
        constant = self.constant(t)
        if constant is None or constant.kind != "Str":
            return
        if constant.value is None:  # some string, which is not known
            if value == "...":
                yield env
            return
        yield from self.string_content(value, constant, env, bind_text=True)

    def string_content(self, value: str, t: Node, env: Env,
                       bind_text: bool = True) -> Iterator[Env]:
        if value == "...":
            yield env
            return
        if _is_metavar(value):
            if bind_text:
                yield from self.bind(value, self.text_binding(t), env)
            return
        regex = REGEX_STRING.match(value)
        if regex is not None:
            flags = re.I if "i" in regex.group(2) else 0
            if re.search(regex.group(1), t.value, flags | (re.M if "m" in regex.group(2) else 0)):
                yield env
            return
        if value == t.value:
            yield env

    def text_binding(self, t: Node) -> Node:
        """What ``"$X"`` binds: the string's content, at its place between the quotes."""
        start, end = t.start, t.end
        if t.raw >= 0:
            source = self.facts.converter.tree.source
            raw = source[start:end]
            content = str(t.value).encode("utf-8", "replace")
            at = raw.find(content) if content else -1
            if at >= 0:
                start, end = start + at, start + at + len(content)
        return make("Text", start, end, value=t.value)

    def m_literal(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind == p.kind:
            if p.value == t.value and type(p.value) is type(t.value):
                yield env
            return
        constant = self.constant(t)
        if constant is not None and constant.kind == p.kind and constant.value == p.value:
            yield env

    def m_regex(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Regex":
            constant = self.constant(t)
            if constant is None or constant.kind != "Regex":
                return
            t = constant
        ppattern, pflags = p.value
        tpattern, tflags = t.value
        if pflags and pflags != tflags:
            return
        if _is_metavar(ppattern):  # /$X/ binds the regex's text
            yield from self.bind(ppattern, make("Text", t.start, t.end, value=tpattern), env)
        elif ppattern == "..." or ppattern == tpattern:
            yield env

    def m_interp(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """f-strings and template literals: ``...`` pieces take runs of pieces."""
        if t.kind == "Str" and p.value is None:
            parts = (make("Str", t.start, t.end, value=t.value),)
        elif t.kind != "Interp" or p.value != t.value:
            return  # an f-string (or a tagged template) pattern matches only its kind
        else:
            parts = t.kids[0]
        yield from self.interp_parts(p.kids[0], parts, env)

    def interp_parts(self, ps: tuple[Node, ...], ts: tuple[Node, ...],
                     env: Env) -> Iterator[Env]:
        if not ps:
            if not ts:
                yield env
            return
        p, rest = ps[0], ps[1:]
        if p.kind == "Str" and p.value == "...":
            for cut in range(len(ts) + 1):
                yield from self.interp_parts(rest, ts[cut:], env)
            return
        if p.kind == "Str" and METAVARIABLE_SEQ.fullmatch(p.value):
            for cut in range(len(ts) + 1):  # "$...X": a run of pieces
                for found in self.bind(p.value, ts[:cut], env):
                    yield from self.interp_parts(rest, ts[cut:], found)
            return
        if p.kind == "Str" and p.value.startswith("...") or p.kind == "Str" and \
                p.value.endswith("..."):
            yield from equiv.partial_string_piece(self, p, ps, ts, env)
            return
        if not ts:
            return
        t = ts[0]
        if p.kind in ("Metavar", "Ellipsis") and t.kind == "Str":
            return  # a hole in the pattern is a hole in the code, not literal text
        for found in self.m(p, t, env):
            yield from self.interp_parts(rest, ts[1:], found)

    # ---- containers and operators

    def m_container(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind == "Comprehension" and len(p.kids[0]) == 1 and p.kids[0][0].kind == \
                "Ellipsis" and (p.value == t.value or {p.value, t.value} == {"tuple",
                                                                              "generator"}):
            yield env
            return
        if t.kind != "Container":
            return
        elems, targets = p.kids[0], t.kids[0]
        unordered = ("dict", "set")
        if p.value in unordered and t.value in unordered and (
                not elems and not targets or len(elems) == 1 and elems[0].kind == "Ellipsis"):
            yield env  # {} and {...}: any set or dict
            return
        if t.value != p.value:
            return
        if p.value in unordered:
            plain = tuple(e for e in elems if e.kind != "Ellipsis")
            if not plain and len(plain) != len(elems):
                yield env
                return
            yield from self.unordered(plain, targets, env, less_ok=len(plain) != len(elems))
            return
        yield from self.seq(elems, targets, env)

    def m_binop(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "BinOp":
            yield from equiv.cross_kind(self, p, t, env)
            return
        yield from operators.binop(self, p, t, env)

    def m_assign(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind == "VarDef":
            if self.option("vardef_assign"):
                yield from equiv.assign_vs_vardef(self, p, t, env)
            return
        if t.kind != "Assign":
            yield from equiv.cross_kind(self, p, t, env)
            return
        if p.value != t.value and not (p.value == "=" and t.value == ":="):
            return
        ptarget, pvalue = p.kids
        ttarget, tvalue = t.kids
        matched = False
        for found in self.m(ptarget, ttarget, env):
            for found2 in self.m(pvalue, tvalue, found):
                matched = True
                yield found2
        if not matched:
            yield from equiv.tuple_assign(self, p, t, env)



    # ---- statements

    def m_dots_chain(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """``$O. ... .m()``: the chain may skip any number of attribute accesses and
        calls."""
        inner = p.kids[0]
        for base in subnodes.chain_prefixes(t):
            yield from self.m(inner, base, env)

    # ---- sequences






def _plain_dotted(p: Node) -> bool:
    """``a.b.c`` made of plain names only (wildcard imports are tried only for those)."""
    while p.kind == "Attr":
        if p.kids[1].kind != "Name":
            return False
        p = p.kids[0]
    return p.kind == "Name"


def _name_equal(pattern: str, code: str) -> bool:
    if pattern == code:
        return True
    regex = REGEX_STRING.match(pattern)
    return bool(regex and re.search(regex.group(1), code))


def _is_metavar(text: str) -> bool:
    return bool(re.fullmatch(r"\$[A-Z_][A-Z0-9_]*", text))


__all__ = ["Env", "Matcher"]


# the handler of each pattern node kind (others: m_generic), looked up once, not per file
DISPATCH: dict[str, Any] = {kind: getattr(Matcher, name) for kind, name in {
    "Metavar": "m_metavar", "Ellipsis": "m_ellipsis", "Name": "m_name",
    "Attr": "m_attr", "Call": "m_call", "Str": "m_str", "Num": "m_literal",
    "Bool": "m_literal", "Null": "m_literal", "Char": "m_literal",
    "DeepEllipsis": "m_deep", "TypedMetavar": "m_typed",
    "DotsChain": "m_dots_chain", "Container": "m_container",
    "Interp": "m_interp", "Assign": "m_assign", "BinOp": "m_binop",
    "Block": "m_block", "Module": "m_block", "ExprStmt": "m_expr_stmt",
    "Record": "m_record", "If": "m_if", "ImportFrom": "m_import",
    "ImportAs": "m_import", "ImportAll": "m_import", "Dotted": "m_dotted",
    "New": "m_new", "Return": "m_return", "Catch": "m_catch",
    "Kwarg": "m_kwarg", "Param": "m_param", "Regex": "m_regex",
    "Decorator": "m_decorator", "ClassDef": "m_class",
    "Xml": "m_xml",
}.items()}
