"""Import patterns: a module prefix is enough, names in any order, more allowed; a plain
``import a.b`` also matches ``from a import b``; JavaScript's imports match ``require``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from indexer.match.node import Node, make, span_of

if TYPE_CHECKING:
    from indexer.match.matcher import Env, Matcher


def imports(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    """Import patterns: a module prefix is enough, names in any order, more allowed; a
    simple ``from a import b`` pattern also matches ``import a.b``-like spellings."""
    if t.kind == "VarDef":
        view = m.facts.converter.import_view(t)
        if view is not None:
            yield from _import_vs_require(m, p, view, env)
        return
    matched = False
    for found in _import_direct(m, p, t, env):
        matched = True
        yield found
    if matched:
        return
    pattern_paths = _import_paths(p, pattern=True)
    code_paths = _import_paths(t, pattern=False)
    if pattern_paths is None or code_paths is None:
        return
    for path in pattern_paths:
        if not any(_prefix(path, code) for code in code_paths):
            return
    yield env


def _import_vs_require(m: Matcher, p: Node, view: Node, env: Env) -> Iterator[Env]:
    """``import 'm'`` and ``import {a, b as c} from 'm'`` against a ``require('m')``
    declaration (semgrep's m_directive_vs_def): the names must be the destructured
    fields, each bound to the same local name."""
    if p.kind == "ImportAs" and p.kids[1] is None:
        names: tuple[Node, ...] = ()
    elif p.kind == "ImportFrom":
        names = tuple(n for n in p.kids[1] if n.kind == "Alias")
    else:
        return
    if view.kind == "ImportAs" and names:
        return
    fields = view.kids[1] if view.kind == "ImportFrom" else ()
    for found in m.m(p.kids[0], view.kids[0], env):
        yield from _names_vs_fields(m, names, fields, found)


def _names_vs_fields(m: Matcher, ps: tuple[Node, ...], ts: tuple[Node, ...],
                     env: Env) -> Iterator[Env]:
    if not ps:
        yield env
        return
    first, rest = ps[0], ps[1:]
    for position, t in enumerate(ts):
        for found in m.m(first.kids[0], t.kids[0], env):
            palias, talias = first.kids[1], t.kids[1]
            if palias is None:
                aliased = iter((found,)) if talias is None else iter(())
            else:
                aliased = m.m(palias, talias if talias is not None else t.kids[0], found)
            for found2 in aliased:
                yield from _names_vs_fields(m, rest, ts[:position] + ts[position + 1:], found2)


def _import_direct(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    if p.kind == "ImportAs" and t.kind == "ImportAll" and p.kids[1] is None:
        yield from _module_prefix(m, p.kids[0], t.kids[0], env)  # import m finds m's *
        return
    if p.kind != t.kind:
        return
    if p.value is not None and p.value != t.value:
        return  # `import static` (a pattern without it matches both)
    if p.kind == "ImportFrom":
        pmodule, pnames = p.kids
        tmodule, tnames = t.kids
        if len(pnames) == 1 and pmodule.kids[0] == () and pnames[0].kids[0].kind == "Metavar":
            if len(tnames) == 1 and tnames[0].kids[0] is not None:  # Java's `import $X;`
                last = tnames[0].kids[0]
                full = make("Dotted", *span_of(tmodule, last), (*tmodule.kids[0], last))
                yield from m.bind(pnames[0].kids[0].value, full, env)
            return
        for found in _module_prefix(m, pmodule, tmodule, env):
            yield from m.unordered(pnames, tnames, found, less_ok=True)
        return
    if p.kind == "ImportAs":
        pmodule, palias = p.kids
        tmodule, talias = t.kids
        for found in _module_prefix(m, pmodule, tmodule, env):
            if palias is None:
                yield found
            else:
                yield from m.m(palias, talias, found)
        return
    yield from _module_prefix(m, p.kids[0], t.kids[0], env)


def _module_prefix(m: Matcher, p: Node, t: Node, env: Env) -> Iterator[Env]:
    parts, code = p.kids[0], t.kids[0]
    if len(parts) == 1 and parts[0].kind == "Metavar":
        yield from m.bind(parts[0].value, t, env)
        return
    regex = _whole_path_regex(parts)
    if regex is not None:  # "=~/re/" is matched against the whole path
        separator = t.value if isinstance(t.value, str) else "."
        if all(c.kind == "Name" for c in code) and re.search(
                regex, separator.join(str(c.value) for c in code)):
            yield env
        return
    if len(parts) > len(code):
        return
    yield from m.seq(parts, code[:len(parts)], env)


def _whole_path_regex(parts: tuple[Node, ...]) -> str | None:
    if len(parts) == 1 and parts[0].kind == "Name":
        found = re.fullmatch(r"=~/(.*)/", str(parts[0].value), re.S)
        return found.group(1) if found else None
    return None


def _import_paths(node: Node, pattern: bool) -> list[tuple[str, ...]] | None:
    """What an import brings in, as dotted paths, when it has no alias and no
    metavariable."""
    def names(dotted: Node) -> tuple[str, ...] | None:
        out = []
        for part in dotted.kids[0]:
            if part.kind != "Name":
                return None
            out.append(part.value)
        return tuple(out)

    if node.kind == "ImportAs":
        module, alias = node.kids
        base = names(module)
        if base is None or (pattern and alias is not None):
            return None
        return [base]
    if node.kind == "ImportAll":
        base = names(node.kids[0])
        return [base] if base is not None else None
    if node.kind == "ImportFrom":
        module, items = node.kids
        base = names(module)
        if base is None:
            return None
        paths = []
        for item in items:
            name, alias = item.kids
            if name is None or name.kind != "Name" or (pattern and alias is not None):
                return None
            paths.append(base + (name.value,))
        return paths
    return None


def _prefix(pattern: tuple[str, ...], code: tuple[str, ...]) -> bool:
    return code[:len(pattern)] == pattern
