"""Statement and declaration patterns: expression statements that look into assignments
and returns, blocks, if/else, try/catch, classes and their members, decorators,
parameters, imports, object literals and JSX."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from indexer.match import equiv, import_patterns, subnodes
from indexer.match.node import Node
from indexer.match.sequences import Env, Sequences, is_dots, is_dots_stmt

if TYPE_CHECKING:
    from indexer.match.matcher import Matcher


class Statements(Sequences):
    """The statement half of the matcher (a mixin of matcher.Matcher)."""

    def whole(self) -> Matcher:
        """This matcher, as equiv.py's functions take it."""
        return cast("Matcher", self)

    def m_record(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Record":
            return
        yield from self.fields(p.kids[0], t.kids[0], env)

    def m_xml(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """JSX: the tag; attributes in any order (more in the code unless
        xml_attrs_implicit_ellipsis is off); children a prefix; ``<a/>`` and
        ``<a></a>`` alike unless xml_singleton_loose_matching is off."""
        if t.kind != "Xml":
            yield from equiv.cross_kind(self.whole(), p, t, env)
            return
        if p.value != t.value and not self.option("xml_singleton_loose_matching"):
            return
        ptag, pattrs, pbody = p.kids
        ttag, tattrs, tbody = t.kids
        plain = tuple(a for a in pattrs if not is_dots(a))
        less_ok = len(plain) != len(pattrs) or self.option("xml_attrs_implicit_ellipsis")
        for found in self.m(ptag, ttag, env):
            for found2 in self.unordered(plain, tattrs, found, less_ok=less_ok):
                yield from self.seq(pbody, tbody, found2, less_ok=True)

    def m_expr_stmt(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        inner = p.kids[0]
        kind = inner.kind
        if kind == "Ellipsis":
            yield env
            return
        if kind == "Metavar":  # $S; binds the statement, or the expression it is
            yield from self.bind(inner.value, t, env)
            if t.kind == "ExprStmt" and t.kids[0] is not None:
                yield from self.bind(inner.value, t.kids[0], env)
            return
        if kind == "DeepEllipsis":
            for sub in subnodes.statement_expressions(t):
                yield from self.m_deep(inner, sub, env)
            return
        yield from equiv.expr_stmt(self.whole(), inner, t, env)

    def m_block(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if p.value is not None and p.value != t.value:
            return  # a block of a kind (a finally clause, a static initializer...)
        if t.kind not in ("Block", "Module"):
            body = p.kids[0]
            if len(body) == 1:  # { s } is s
                yield from self.m(body[0], t, env)
            return
        stmts = p.kids[0]
        if len(stmts) == 1 and is_dots_stmt(stmts[0]):
            yield env
            return
        code = t.kids[0]
        if p.value == "members":  # a class body: members in any order, more allowed
            yield from self.unordered(stmts, code, env, less_ok=True)
            return
        if len(stmts) == 1 and stmts[0].kind == "ExprStmt" and stmts[0].kids[0].kind == \
                "Metavar" and len(code) != 1:
            yield from self.bind(stmts[0].kids[0].value, code, env)  # a body of one $S
            return
        for found, _last in self.stmts(stmts, code, env, less_ok=False):
            yield found

    def m_if(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "If":
            return
        pcond, pthen, pelse = p.kids
        tcond, tthen, telse = t.kids
        for found in self.m(pcond, tcond, env):
            for found2 in self.m_body(pthen, tthen, found):
                if pelse is None:
                    yield found2
                else:
                    yield from self.m_body(pelse, telse, found2)

    def m_body(self, p: Any, t: Any, env: Env) -> Iterator[Env]:
        """A block or a single statement against a block or a single statement."""
        if p is None or t is None:
            if p is None and t is None:
                yield env
            return
        if p.kind == "Block" and t.kind != "Block":
            if len(p.kids[0]) == 1:
                yield from self.m(p.kids[0][0], t, env)
            return
        if t.kind == "Block" and p.kind != "Block":
            if len(t.kids[0]) == 1:
                yield from self.m(p, t.kids[0][0], env)
            else:
                yield from self.m(p, t, env)  # $S; binds a whole block
            return
        yield from self.m(p, t, env)  # `$S;` may stand for a whole block

    def m_return(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Return":
            return
        value = p.kids[0]
        if value is not None and value.kind == "Ellipsis":
            yield env
            return
        if value is None and t.kids[0] is not None:
            return
        yield from self.m(value, t.kids[0], env)

    def m_catch(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Catch":
            return
        ptype, pname, pbody = p.kids
        ttype, tname, tbody = t.kids
        if ptype is not None and ptype.kind == "Container" and len(ptype.kids[0]) == 1 and \
                ptype.kids[0][0].kind in ("Ellipsis", "Metavar") and ttype is not None:
            ptype = ptype.kids[0][0]
            if ptype.kind == "Metavar" and ttype.kind == "Container" and len(ttype.kids[0]) == 1:
                ttype = ttype.kids[0][0]
        if ptype is not None and ptype.kind == "Ellipsis":
            ptype = None
        if ptype is not None and ttype is None:
            return
        matches = self.m(ptype, ttype, env) if ptype is not None else iter((env,))
        for found in matches:
            names = self.m(pname, tname, found) if pname is not None else iter((found,))
            for found2 in names:
                yield from self.m_body(pbody, tbody, found2)

    def m_decorator(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Decorator":
            return
        for found in self.m(p.kids[0], t.kids[0], env):
            yield from self.args(p.kids[1], t.kids[1], found)

    def m_class(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        """Classes: parents a prefix in order, implemented interfaces and attributes in any
        order, body members in any order with more allowed."""
        if t.kind != "ClassDef" or (
                p.value != t.value and not equiv.values_agree(p, t, self.option)):
            return
        pname, pbases, pimpls, pbody, pattrs, ptparams = p.kids
        tname, tbases, timpls, tbody, tattrs, ttparams = t.kids
        for e1 in self.m(pname, tname, env):
            for e2 in self.seq(pbases, tbases, e1, less_ok=True):
                for e3 in self.unordered(pimpls, timpls, e2, less_ok=True):
                    for e4 in self.unordered(pattrs, tattrs, e3, less_ok=True):
                        for e5 in (self.seq(ptparams, ttparams, e4) if ptparams else (e4,)):
                            yield from self.members(pbody, tbody, e5)

    def m_param(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Param":
            return
        if p.value != t.value:
            return
        yield from self.kids(p, t, env)

    def m_import(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        yield from import_patterns.imports(self.whole(), p, t, env)

    def m_dotted(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        if t.kind != "Dotted":
            return
        parts = p.kids[0]
        if len(parts) == 1 and parts[0].kind == "Metavar":  # $X is the whole dotted name
            yield from self.bind(parts[0].value, t, env)
            return
        yield from self.seq(parts, t.kids[0], env)
