"""Sequences in a pattern against sequences in code: arguments (``...`` and ``$...X`` take
runs, keyword arguments match in any order), ordered lists, unordered members, and
statement lists with semgrep's deep ``...`` (it may reach into nested statements)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from indexer.match import subnodes
from indexer.match.facts import Facts
from indexer.match.node import Node

Env = dict[str, Any]


class Sequences:
    """The sequence half of the matcher (a mixin of matcher.Matcher)."""

    # what the matcher provides (matcher.py)
    facts: Facts
    options: dict[str, Any]

    def m(self, p: Any, t: Any, env: Env) -> Iterator[Env]:
        raise NotImplementedError

    def bind(self, name: str, value: Any, env: Env) -> Iterator[Env]:
        raise NotImplementedError

    def option(self, name: str, default: bool = True) -> bool:
        raise NotImplementedError

    def kids(self, p: Node, t: Node, env: Env, start: int = 0) -> Iterator[Env]:
        raise NotImplementedError

    def m_deep(self, p: Node, t: Node, env: Env) -> Iterator[Env]:
        raise NotImplementedError

    def args(self, ps: tuple[Node, ...], ts: tuple[Node, ...], env: Env) -> Iterator[Env]:
        """Arguments: ``...`` and ``$...X`` take runs, keyword arguments match in any
        order."""
        if not ps:
            if not ts:
                yield env
            return
        p, rest = ps[0], ps[1:]
        kind = p.kind
        if kind == "Ellipsis":
            if not rest:
                yield env
                return
            for cut in range(len(ts) + 1):
                yield from self.args(rest, ts[cut:], env)
            return
        if kind == "MetavarSeq":
            for cut in range(len(ts) + 1):
                for found in self.bind(p.value, ts[:cut], env):
                    yield from self.args(rest, ts[cut:], found)
            return
        if kind == "Kwarg" and p.kids[0].kind == "Name":
            name = p.kids[0].value
            for position, t in enumerate(ts):
                if t.kind == "Kwarg" and t.kids[0].kind == "Name" and t.kids[0].value == name:
                    for found in self.m(p.kids[1], t.kids[1], env):
                        yield from self.args(rest, ts[:position] + ts[position + 1:], found)
                    return
            return
        if kind == "Kwarg":
            for position, t in enumerate(ts):
                for found in self.m(p, t, env):
                    yield from self.args(rest, ts[:position] + ts[position + 1:], found)
            return
        if ts and (ts[0].kind != "Kwarg" or kind in ("Ellipsis", "DeepEllipsis")):
            for found in self.m(p, ts[0], env):  # a positional argument is not a keyword one
                yield from self.args(rest, ts[1:], found)

    def fields(self, ps: tuple[Node, ...], ts: tuple[Node, ...], env: Env) -> Iterator[Env]:
        """Fields (of a record, of a class body): in any order, more in the code unless
        the rule turns implicit_ellipsis off and the pattern has no ``...``."""
        plain = tuple(f for f in ps if not is_dots(f))
        less_ok = len(plain) != len(ps) or self.option("implicit_ellipsis")
        yield from self.unordered(plain, ts, env, less_ok=less_ok)

    def members(self, p: Node | None, t: Node | None, env: Env) -> Iterator[Env]:
        """A class body: each member of the pattern against a different member of the code,
        in any order (semgrep's m_fields with its implicit ellipsis)."""
        if p is None:
            yield env
            return
        if t is None:
            return
        wanted = tuple(s for s in (p.kids[0] if p.kind == "Block" else (p,))
                       if not is_dots_stmt(s))
        code = t.kids[0] if t.kind == "Block" else (t,)
        yield from self.unordered(wanted, code, env, less_ok=True)

    def seq(self, ps: tuple[Any, ...], ts: tuple[Any, ...], env: Env,
            less_ok: bool = False) -> Iterator[Env]:
        """An ordered sequence with ``...`` (any run) and ``$...X`` (a bound run)."""
        if not ps:
            if not ts or less_ok:
                yield env
            return
        p, rest = ps[0], ps[1:]
        if is_dots(p):
            if not rest:
                yield env
                return
            for cut in range(len(ts) + 1):
                yield from self.seq(rest, ts[cut:], env, less_ok)
            return
        if isinstance(p, Node) and p.kind == "MetavarSeq":
            for cut in range(len(ts) + 1):
                for found in self.bind(p.value, ts[:cut], env):
                    yield from self.seq(rest, ts[cut:], found, less_ok)
            return
        if not ts:
            return
        for found in self.m(p, ts[0], env):
            yield from self.seq(rest, ts[1:], found, less_ok)

    def unordered(self, ps: tuple[Any, ...], ts: tuple[Any, ...], env: Env,
                  less_ok: bool) -> Iterator[Env]:
        """Each pattern element against a different code element, in any order."""
        ps = tuple(p for p in ps if not is_dots(p))
        if not ps:
            if not ts or less_ok:
                yield env
            return
        p, rest = ps[0], ps[1:]
        for position, t in enumerate(ts):
            for found in self.m(p, t, env):
                yield from self.unordered(rest, ts[:position] + ts[position + 1:], found,
                                          less_ok)

    def stmts(self, ps: tuple[Node, ...], ts: tuple[Node, ...], env: Env, less_ok: bool,
              inside: bool = False, last: Node | None = None
              ) -> Iterator[tuple[Env, Node | None]]:
        """A statement sequence (semgrep's m_stmts_deep): ``...`` may also reach into the
        statements nested in the ones after it. Yields (env, last code statement
        matched)."""
        if not ps:
            if not ts or less_ok:
                yield env, last
            return
        p, rest = ps[0], ps[1:]
        if is_dots_stmt(p):
            if not rest:
                if inside and ts:
                    yield env, ts[-1]  # the largest ending is enough for an inside
                    return
                yield env, last
                for reached in ts:  # a trailing ... ends anywhere after (semgrep's
                    yield env, reached  # m_list__m_stmt), so pattern-not finds its range
                return
            # from a ``...`` on, code statements after the pattern's last are fine
            # (semgrep's m_list__m_stmt, less_is_ok by default); the statements nested in
            # the code's are tried as well as the code's own (m_stmts_deep's >||>)
            yield from self.flat_stmts(ps, ts, env, True, last)
            flat = subnodes.flatten_statements(ts)
            if flat is not None:
                yield from self.flat_stmts(ps, flat, env, True, last)
            return
        if is_metavar_seq_stmt(p):
            yield from self.flat_stmts(ps, ts, env, True, last)
            return
        if not ts:
            return
        for found in self.m(p, ts[0], env):
            yield from self.stmts(rest, ts[1:], found, less_ok, inside, ts[0])

    def stmts_at_each_position(self, ps: tuple[Node, ...], ts: tuple[Node, ...], env: Env,
                               limit: int) -> list[list[tuple[Env, Node | None]]] | None:
        """What ``stmts(ps, ts[i:], env, less_ok=True)`` gives for every position i, for a
        pattern that opens with ``...`` then a statement: the rest is tried once at each
        statement (and each nested one), and position i takes what was found from it on,
        instead of trying the rest again from every position. None for other patterns."""
        if len(ps) < 2 or not is_dots_stmt(ps[0]) or is_dots_stmt(ps[1]) or \
                is_metavar_seq_stmt(ps[1]):
            return None
        rest = ps[1:]

        def from_each(statements: tuple[Node, ...]) -> list[list[tuple[Env, Node | None]]]:
            return _from_each_on([list(self.flat_stmts(rest, statements[k:], env, True, None))
                                  for k in range(len(statements))], limit)

        own = from_each(ts)
        flat = subnodes.flatten_statements(ts)
        if flat is None:
            return own
        nested = from_each(flat)
        at = {id(t): k for k, t in enumerate(flat)}  # a statement of ts -> its place in flat
        return [(own[i] + nested[at[id(t)]])[:limit] for i, t in enumerate(ts)]

    def flat_stmts(self, ps: tuple[Node, ...], ts: tuple[Node, ...], env: Env, less_ok: bool,
                   last: Node | None) -> Iterator[tuple[Env, Node | None]]:
        """semgrep's m_list__m_stmt: no more reaching into nested statements."""
        if not ps:
            if not ts or less_ok:
                yield env, last
            return
        p, rest = ps[0], ps[1:]
        if is_dots_stmt(p):
            if not rest:  # a final `...` ends at the last statement, or right here
                if ts:
                    yield env, ts[-1]
                yield env, last
                for reached in ts:
                    yield env, reached
                return
            for cut in range(len(ts) + 1):
                yield from self.flat_stmts(rest, ts[cut:], env, less_ok,
                                           ts[cut - 1] if cut else last)
            return
        if is_metavar_seq_stmt(p):
            name = p.kids[0].value
            for cut in range(len(ts) + 1):
                for found in self.bind(name, ts[:cut], env):
                    yield from self.flat_stmts(rest, ts[cut:], found, False,
                                               ts[cut - 1] if cut else last)
            return
        if not ts:
            return
        for found in self.m(p, ts[0], env):
            yield from self.flat_stmts(rest, ts[1:], found, less_ok, ts[0])


def _from_each_on(found: list[list[Any]], limit: int) -> list[list[Any]]:
    """Per position, what was found there and at every later one (at most ``limit``)."""
    out: list[list[Any]] = [[] for _ in found]
    later: list[Any] = []
    for k in range(len(found) - 1, -1, -1):
        later = (found[k] + later)[:limit] if found[k] else later
        out[k] = later
    return out


def is_dots(p: Any) -> bool:
    return isinstance(p, Node) and (p.kind == "Ellipsis" or (
        p.kind == "ExprStmt" and p.kids[0].kind == "Ellipsis"))


def is_dots_stmt(p: Node) -> bool:
    return p.kind == "ExprStmt" and p.kids[0] is not None and p.kids[0].kind == "Ellipsis"


def is_metavar_seq_stmt(p: Node) -> bool:
    return p.kind == "ExprStmt" and p.kids[0] is not None and p.kids[0].kind == "MetavarSeq"
