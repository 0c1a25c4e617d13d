"""The flow-sensitive walk of constant propagation over one scope's structured statements
(constants.py drives it): values per name, joined where paths meet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from indexer.match.folding import Symbol, evaluate, is_symbolic, some_string
from indexer.match.node import Node, iter_kids, make
from indexer.match.written import (
    INCREMENTS,
    assigned_names,
    destructure,
    target_names,
)

if TYPE_CHECKING:
    from indexer.match.constants import Constants

NOT_CONSTANT = "not constant"
Env = dict[str, Any]  # name -> literal Node, some_string(), Symbol, or NOT_CONSTANT
SCOPE_KINDS = ("FuncDef", "Lambda")
BOOLEAN_OPS = {"&&": True, "||": True, "and": True, "or": True}  # the right may not run
MAX_ROUNDS = 4  # passes over a loop to reach its fixpoint
MAX_NESTED_LOOPS = 4  # deeper loops take one conservative pass


class Flow:
    """The walk over one scope's statements (see the module doc)."""

    def __init__(self, constants: Constants, local: set[str]) -> None:
        self.constants = constants
        self.local = local
        self.breaks: list[list[Env]] = []  # per enclosing loop or switch
        self.continues: list[list[Env]] = []  # per enclosing loop

    def block(self, statements: tuple[Node, ...], env: Env | None) -> Env | None:
        for statement in statements:
            if env is None:
                return None
            env = self.statement(statement, env)
        return env

    def statement(self, s: Node, env: Env) -> Env | None:
        kind = s.kind
        kids = s.kids
        if kind in ("Block", "Module"):
            return self.block(kids[0], env)
        if kind == "ExprStmt":
            return self.expression(kids[0], env)
        if kind in ("Return", "Throw"):
            for kid in kids:
                if kid is not None:
                    env = self.expression(kid, env) or env
            return None
        if kind in ("Break", "Continue"):
            targets = self.breaks if kind == "Break" else self.continues
            if kids[0] is None and targets:  # a labelled one: its path is dropped
                targets[-1].append(env)
            return None
        if kind == "VarDef":
            name, _type, value, _attrs = kids
            if value is not None:
                env = self.expression(value, env) or env
            if name is not None and name.kind == "Name":
                env = dict(env)
                env[name.value] = self.eval(value, env) if value is not None else NOT_CONSTANT
            return env
        if kind == "If":
            return self.branches(kids[0], [kids[1], kids[2]], env)
        if kind == "Switch":
            bodies = [c.kids[1] for c in kids[1]]
            if not any(c.value == "default" for c in kids[1]):
                bodies.append(None)
            self.breaks.append([])
            out = self.branches(kids[0], bodies, env)
            return join_all([out, *self.breaks.pop()])
        if kind in ("While", "For", "ForC", "DoWhile"):
            return self.loop(s, env)
        if kind == "Try":
            return self.try_(s, env)
        if kind == "With":
            env = dict(env)
            for item in kids[0]:
                if item.kind == "WithItem":
                    env = dict(self.expression(item.kids[0], env) or env)
                    target = item.kids[1]
                    if target is not None and target.kind == "Name":
                        env[target.value] = self.eval(item.kids[0], env)  # `as s`: s is it
                        continue
                    for name in target_names(target):
                        env[name] = NOT_CONSTANT
            return self.statement(kids[1], env) if kids[1] is not None else env
        if kind in ("FuncDef", "ClassDef"):
            for decorator in kids[4]:  # decorators, bases and defaults read the outer scope
                self.uses(decorator, env)
            if kind == "ClassDef":
                for base in kids[1]:
                    self.uses(base, env)
            else:
                for param in kids[1]:
                    if param.kind == "Param" and param.kids[2] is not None:
                        self.uses(param.kids[2], env)
            env = dict(env)
            if kids[0] is not None and kids[0].kind == "Name":
                env[kids[0].value] = NOT_CONSTANT
            return env
        if kind == "Label":
            return self.statement(kids[1], env) if kids[1] is not None else env
        if kind == "Delete":
            env = dict(env)
            for target in kids[0]:
                for name in target_names(target):
                    env[name] = NOT_CONSTANT
            return env
        for kid in kids:  # anything else: its expressions are read
            for part in (kid if isinstance(kid, tuple) else (kid,)):
                if isinstance(part, Node) and part.kind not in SCOPE_KINDS:
                    env = self.expression(part, env) or env
        return env

    def branches(self, condition: Node | None, bodies: list[Node | None], env: Env) -> Env | None:
        if condition is not None:
            env = self.expression(condition, env) or env
        exits = [self.statement(b, env) if b is not None else env for b in bodies]
        return join_all(exits)

    def loop(self, s: Node, env: Env) -> Env | None:
        """A loop to its fixpoint: the head joins the entry with what comes back from the
        body (its end, and its ``continue``s), which starts as "nothing is constant"
        (semgrep's must-analysis: a name keeps its value through a loop only when the body
        cannot come back); the loop ends from the head or a ``break``. Without a fixpoint
        in a few rounds, what it assigns is not constant."""
        kids = s.kids
        start = dict(env)
        if s.kind == "ForC":
            init = kids[0]
            for part in (init.kids[0] if isinstance(init, Node) and init.kind == "Block" and
                         init.raw == -1 else (init,)):
                if isinstance(part, Node):
                    start = (self.statement(part, start) or start) if part.kind in (
                        "VarDef", "ExprStmt") else self.expression(part, start)
        elif s.kind == "For":
            start = self.expression(kids[1], start)
        back: Env | None = {}  # as semgrep's: the back edge starts with nothing constant
        rounds = MAX_ROUNDS if len(self.breaks) < MAX_NESTED_LOOPS else 0  # 4^depth passes
        for _round in range(rounds):
            entry = join_all([start, back]) if back is not None else start
            head, again, breaks = self._loop_round(s, entry or start)
            if again is None and back is None or (
                    again is not None and back is not None and _same_env(again, back)):
                break
            back = again
        else:
            entry = dict(start)
            for name in assigned_names(s):
                entry[name] = NOT_CONSTANT
            head, _exit, breaks = self._loop_round(s, entry)
        out = join_all([head, *breaks])
        other = kids[3] if s.kind == "For" else kids[2] if s.kind == "While" else None
        if other is not None and out is not None:
            out = self.statement(other, out)
        return out if out is not None else head

    def _loop_round(self, s: Node, entry: Env) -> tuple[Env, Env | None, list[Env]]:
        """One pass over a loop from ``entry``: the head (where the loop may end), the
        env coming back to the head, the envs of its ``break``s."""
        kids = s.kids
        head = dict(entry)
        if s.kind == "For":
            for name in target_names(kids[0].kids[0] if isinstance(kids[0], Node) and
                                      kids[0].kind == "VarDef" else kids[0]):
                head[name] = NOT_CONSTANT
            body = kids[2]
        elif s.kind == "ForC":
            if isinstance(kids[1], Node):
                head = self.expression(kids[1], head)
            body = kids[3]
        elif s.kind == "While":
            head = self.expression(kids[0], head)
            body = kids[1]
        else:
            body = kids[0]
        self.breaks.append([])
        self.continues.append([])
        after = self.statement(body, dict(head)) if body is not None else dict(head)
        breaks, continues = self.breaks.pop(), self.continues.pop()
        back = join_all([after, *continues])
        if back is not None and s.kind == "ForC" and isinstance(kids[2], Node):
            back = self.statement(kids[2], back) if kids[2].kind == "Block" else \
                self.expression(kids[2], back)
        if s.kind == "DoWhile" and back is not None:
            back = self.expression(kids[1], back)
            head = back
        return head, back, breaks

    def try_(self, s: Node, env: Env) -> Env | None:
        body, handlers, other, final = s.kids
        raising: list[Env | None] = []
        current: Env | None = env
        for statement in (body.kids[0] if body is not None and body.kind == "Block" else
                          ([body] if body is not None else [])):
            if current is None:
                break
            if may_raise(statement):
                raising.append(current)
            current = self.statement(statement, current)
        exits: list[Env | None] = []
        if current is not None:
            exits.append(self.statement(other, current) if other is not None else current)
        handler_entry = join_all(raising)
        if handler_entry is not None:
            for handler in handlers:
                entry = dict(handler_entry)
                for name in target_names(handler.kids[1]):
                    entry[name] = NOT_CONSTANT
                exits.append(self.statement(handler.kids[2], entry)
                             if handler.kids[2] is not None else entry)
        out = join_all(exits)
        if final is not None:
            start = out if out is not None else (handler_entry or env)
            after_final = self.statement(final, start)
            return after_final if out is not None else None
        return out

    def expression(self, e: Node | None, env: Env) -> Env:
        """Record the value of each name the expression reads; apply its assignments."""
        if e is None:
            return env
        if e.kind in ("Assign", "AugAssign"):
            target, value = e.kids
            env = self.expression(value, env)
            self.reads_in_target(target, env)
            new = dict(env)
            if e.kind == "Assign":
                for name, assigned in destructure(target, value):
                    new[name] = self.eval(assigned, env) if assigned is not None else NOT_CONSTANT
            elif target is not None and target.kind == "Name":
                self.record(target, env)
                combined = make("BinOp", e.start, e.end, target, value,
                                value=str(e.value).rstrip("="))
                new[target.value] = self.eval(combined, env)
            return new
        if e.kind == "UnOp" and e.value in INCREMENTS:
            operand = e.kids[0]
            if operand is not None and operand.kind == "Name":
                self.record(operand, env)
                new = dict(env)
                new[operand.value] = NOT_CONSTANT
                return new
        if _assigns_inside(e):
            return self.ordered(e, env)
        self.uses(e, env)
        return env

    def ordered(self, e: Node, env: Env) -> Env:
        """An expression with assignments inside (``f(x = 1)``, ``c && (s = "a")``): its
        parts in evaluation order, the right operand of ``&&``/``||`` and the branches
        of ``?:`` as paths that may not run."""
        kind = e.kind
        if kind in ("Assign", "AugAssign") or kind == "UnOp" and str(e.value).endswith(
                ("pre", "post")):
            return self.expression(e, env)
        if kind == "Name":
            self.record(e, env)
            return env
        if kind in SCOPE_KINDS or kind == "ClassDef":
            return env
        if kind == "BinOp" and BOOLEAN_OPS.get(str(e.value)):
            first = self.ordered(e.kids[0], env) if e.kids[0] is not None else env
            second = self.ordered(e.kids[1], first) if e.kids[1] is not None else first
            return join_all([first, second]) or first
        if kind == "IfExp":
            cond, then, other = e.kids
            env = self.ordered(cond, env) if cond is not None else env
            paths = [self.ordered(k, env) if k is not None else env for k in (then, other)]
            return join_all(paths) or env  # type: ignore[arg-type]
        parts = [e.kids[0]] if kind == "Attr" else [e.kids[1]] if kind == "Kwarg" else [
            k for kid in e.kids for k in (kid if isinstance(kid, tuple) else (kid,))]
        for part in parts:
            if isinstance(part, Node):
                env = self.ordered(part, env)
        return env

    def uses(self, e: Node, env: Env) -> None:
        stack = [e]
        while stack:
            node = stack.pop()
            kind = node.kind
            if kind == "Name":
                self.record(node, env)
                continue
            if kind in SCOPE_KINDS or kind in ("ClassDef",):
                continue
            if kind == "Attr":
                stack.append(node.kids[0])
                continue
            if kind == "Kwarg":
                stack.append(node.kids[1])
                continue
            if kind in ("Assign", "AugAssign"):
                self.expression(node, env)
                continue
            stack.extend(iter_kids(node))

    def reads_in_target(self, target: Node | None, env: Env) -> None:
        if target is None:
            return
        if target.kind in ("Attr", "Subscript"):
            self.uses(target, env)
        elif target.kind == "Container":
            for item in target.kids[0]:
                self.reads_in_target(item, env)

    def record(self, name: Node, env: Env) -> None:
        if name.value in self.local or name.value in env:
            self.constants.at[(name.start, name.end)] = env.get(name.value, NOT_CONSTANT)

    def eval(self, node: Node | None, env: Env) -> Any:
        def lookup(name: Node) -> Any:
            if name.kind == "Name":
                if name.value in env:
                    return env[name.value]
                if name.value in self.local:
                    return NOT_CONSTANT
            outer = self.constants.converter.outer_constant(name, self.constants)
            if outer is not None or name.kind != "Name":
                return outer
            return self.constants.globals().get(name.value)

        found = evaluate(node, lookup, self.constants.text_plus_number) \
            if node is not None else None
        if isinstance(found, Node):
            return found
        return Symbol(node) if node is not None and is_symbolic(node) else NOT_CONSTANT


def _same_env(a: Env, b: Env) -> bool:
    """Whether two envs hold the same values (a loop's fixpoint is reached)."""
    if a.keys() != b.keys():
        return False
    for name, x in a.items():
        y = b[name]
        if x is y or isinstance(x, Symbol) and isinstance(y, Symbol) and x.expr is y.expr:
            continue
        if not (isinstance(x, Node) and isinstance(y, Node) and x.kind == y.kind and
                x.value == y.value):
            return False
    return True


def join(a: Any, b: Any) -> Any:
    if a is b:
        return a
    if isinstance(a, Symbol) and isinstance(b, Symbol) and a.expr is b.expr:
        return a
    if isinstance(a, Node) and isinstance(b, Node):
        if a.kind == b.kind and a.value == b.value and a.value is not None:
            return a
        if a.kind == "Str" and b.kind == "Str":
            return some_string()
    return NOT_CONSTANT


def join_all(envs: list[Env | None]) -> Env | None:
    live = [e for e in envs if e is not None]
    if not live:
        return None
    result = dict(live[0])
    for other in live[1:]:
        for name in set(result) | set(other):
            if name not in result or name not in other:
                result[name] = NOT_CONSTANT
            else:
                result[name] = join(result[name], other[name])
    return result


def _assigns_inside(e: Node) -> bool:
    """Whether an expression assigns a name somewhere inside (not in a nested scope)."""
    stack = list(e.kids)
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            stack.extend(node)
            continue
        if not isinstance(node, Node) or node.kind in SCOPE_KINDS or node.kind == "ClassDef":
            continue
        if node.kind in ("Assign", "AugAssign") or node.kind == "UnOp" and str(
                node.value).endswith(("pre", "post")):
            return True
        stack.extend(node.kids)
    return False


def may_raise(statement: Node) -> bool:
    """Whether a statement can raise: it raises, or calls something."""
    stack = [statement]
    while stack:
        node = stack.pop()
        if node.kind in ("Throw", "Call", "New", "Assert"):
            return True
        if node.kind in SCOPE_KINDS or node.kind == "ClassDef":
            continue
        stack.extend(iter_kids(node))
    return False
