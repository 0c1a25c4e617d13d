"""Constant propagation, as semgrep's: which expressions hold a known literal, or at least a
string, at the place they are used.

Each function (and the module's top level) is analysed once, on demand, flow-sensitively over
its structured statements: assignments set a name's value, the branches of an ``if`` join
(two different strings join to "some string", anything else that differs to "not constant",
a name assigned on one branch only is not constant after it), loops make what they assign
not constant, ``try`` sends the values before each statement that may raise to the
handlers, ``return``/``raise``/``break`` end a path. A name the function never assigns takes
its value from the module, when the module assigns it exactly once, from a constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from indexer.match.node import LITERALS, Node, make

if TYPE_CHECKING:
    from indexer.match.facts import Facts

NOT_CONSTANT = "not constant"
Env = dict[str, Any]  # name -> literal Node, some_string(), Symbol, or NOT_CONSTANT
SCOPE_KINDS = ("FuncDef", "Lambda")
BOOLEAN_OPS = {"&&": True, "||": True, "and": True, "or": True}  # the right may not run
MAX_STRING = 1 << 16  # longer computed strings are "some string"
MAX_ROUNDS = 4  # passes over a loop to reach its fixpoint
MAX_NESTED_LOOPS = 4  # deeper loops take one conservative pass
INCREMENTS = frozenset({"++pre", "--pre", "++post", "--post", "++", "--"})


class Symbol(NamedTuple):
    """The value of a name assigned an expression that is not constant but can stand for
    it (semgrep's symbolic propagation): a name, a literal, an attribute, a call or
    ``new`` of such."""

    expr: Node
TEXT_PLUS_NUMBER = frozenset({"javascript", "typescript", "tsx", "java"})  # 'a' + 1 == 'a1'


def some_string(start: int = -1, end: int = -1) -> Node:
    """The value of an expression known to be a string, not which one."""
    return make("Str", start, end, value=None)


class Constants:
    """The constant values of one file's name uses, analysed a scope at a time."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.converter = facts.converter
        self.at: dict[tuple[int, int], Any] = {}  # (start, end) of a name use -> value
        self.analysed: set[int] = set()
        self._globals: Env | None = None
        self._global_symbols: dict[str, Symbol] = {}
        self._locals: dict[int, set[str]] = {}
        self.text_plus_number = facts.language in TEXT_PLUS_NUMBER

    def value(self, node: Node) -> Node | None:
        """The literal (or some-string) value of an expression, or None."""
        if node.kind in LITERALS:
            return node
        if node.kind == "Name":
            return self.name_value(node)
        found = evaluate(node, self.name_value, self.text_plus_number)
        return found if isinstance(found, Node) else None

    def name_value(self, node: Node) -> Any:
        if node.kind != "Name":  # `this.x`: what the language knows of its fields
            return self.converter.outer_constant(node, self)
        scope = self._scope_of(node)
        if scope not in self.analysed:
            self.analysed.add(scope)
            self._analyse(scope)
        found = self.at.get((node.start, node.end))
        if found is None:
            if node.value in self._locals_of(scope):
                return None
            outer = self.converter.outer_constant(node, self)
            return outer if outer is not None else self.globals().get(node.value)
        return found if isinstance(found, Node) else None

    def symbol(self, node: Node) -> Node | None:
        """The expression a name stands for where it is used (symbolic propagation)."""
        if node.kind != "Name":
            return None
        self.name_value(node)  # analyses the scope
        found = self.at.get((node.start, node.end))
        if found is None and node.value not in self._locals_of(self._scope_of(node)):
            self.globals()
            found = self._global_symbols.get(node.value)  # assigned once at the top level
        return found.expr if isinstance(found, Symbol) else None

    def globals(self) -> Env:
        """Names the top level assigns exactly once, to a constant."""
        if self._globals is None:
            counts: dict[str, int] = {}
            values: Env = {}
            assigned_once: dict[str, Node] = {}
            root = self.converter.node(0)
            for statement in (root.kids[0] if root is not None and root.kids else ()):
                for name, assigned in _assignments(statement):
                    counts[name] = counts.get(name, 0) + 1
                    if assigned is not None:
                        assigned_once[name] = assigned
                    values[name] = evaluate(assigned, lambda n: None, self.text_plus_number) \
                        if assigned else None
            self._globals = {n: v for n, v in values.items()
                             if counts[n] == 1 and isinstance(v, Node)}
            self._global_symbols = {
                n: Symbol(a) for n, a in assigned_once.items()
                if counts[n] == 1 and n not in self._globals and is_symbolic(a)}
        return self._globals

    def variable(self, node: Node) -> int | None:
        """Which variable a name refers to, as the index of the scope that binds it (0: the
        module, -1: no scope binds it); None when the name is not a variable (a field, a
        keyword) or was made up."""
        index = node.raw
        if index < 0 or not self.converter.is_variable(index):
            return None
        scope = self._scope_of(node)
        tree = self.converter.tree
        while True:
            if node.value in self._locals_of(scope):
                return scope
            if scope == 0:
                return -1
            scope = self._enclosing(tree.parent(scope))

    def _scopes(self) -> frozenset[str]:
        """The grammar kinds that open a scope (the converter's, else its functions')."""
        converter = self.converter
        if converter.SCOPES:
            return converter.SCOPES
        kinds: set[str] = set()
        for kind in SCOPE_KINDS:
            kinds |= converter.candidates(kind)
        return frozenset(kinds)

    def _enclosing(self, index: int) -> int:
        tree, scopes = self.converter.tree, self._scopes()
        while index > 0:
            if tree.kind(index) in scopes:
                return index
            index = tree.parent(index)
        return 0

    def _scope_of(self, node: Node) -> int:
        """The grammar index of the function (or 0, the module) a node is in."""
        if node.raw < 0:
            return 0
        return self._enclosing(self.converter.tree.parent(node.raw))

    def _locals_of(self, scope: int) -> set[str]:
        found = self._locals.get(scope)
        if found is None:
            node = self.converter.node(scope)
            found = self._locals[scope] = assigned_names(node) if node is not None else set()
        return found

    def _analyse(self, scope: int) -> None:
        node = self.converter.node(scope)
        if node is None:
            return
        flow = Flow(self, assigned_names(node) if node.kind != "Module" else set())
        try:
            if node.kind == "Module":
                flow.local |= assigned_names(node)
                flow.block(node.kids[0], {})
            elif node.kind == "FuncDef":
                env = {name: NOT_CONSTANT for name in _param_names(node.kids[1])}
                body = node.kids[3]
                if body is not None:
                    flow.statement(body, env)
            elif node.kind == "Lambda":
                env = {name: NOT_CONSTANT for name in _param_names(node.kids[0])}
                body = node.kids[1]
                if body is not None:
                    flow.statement(body, env) if body.kind == "Block" else flow.uses(body, env)
        except RecursionError:
            return


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
                    for name in _target_names(target):
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
                for name in _target_names(target):
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
            for name in _target_names(kids[0].kids[0] if isinstance(kids[0], Node) and
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
                for name in _target_names(handler.kids[1]):
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
                for name, assigned in _destructure(target, value):
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
            for kid in node.kids:
                if isinstance(kid, Node):
                    stack.append(kid)
                elif isinstance(kid, tuple):
                    stack.extend(k for k in kid if isinstance(k, Node))

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


def is_symbolic(node: Node | None) -> bool:
    """Whether an expression can stand for a name assigned it (semgrep's
    is_symbolic_expr)."""
    if node is None:
        return False
    kind = node.kind
    if kind in LITERALS or kind == "Name":
        return True
    if kind == "Cast":
        return is_symbolic(node.kids[1])
    if kind == "Attr":
        return is_symbolic(node.kids[0])
    if kind == "Subscript":
        return is_symbolic(node.kids[0]) and is_symbolic(node.kids[1])
    if kind == "Call":
        return is_symbolic(node.kids[0]) and all(is_symbolic(a) for a in node.kids[1])
    if kind == "New":
        return all(is_symbolic(a) for a in node.kids[1])
    if kind == "Kwarg":
        return is_symbolic(node.kids[1])
    if kind in ("UnOp", "BinOp"):  # calls of operators, to semgrep
        return all(is_symbolic(k) for k in node.kids)
    if kind in ("Type", "Other"):  # types, and conversions kept as the grammar has them
        return all(is_symbolic(k) for kid in node.kids
                   for k in (kid if isinstance(kid, tuple) else (kid,)) if k is not None)
    return False


def evaluate(node: Node | None, lookup: Any, text_plus_number: bool = False) -> Any:
    """The constant value of an expression: a literal Node, some_string(), or None;
    ``text_plus_number``: the language makes ``'a' + 1`` the string ``'a1'``."""
    if node is None:
        return None
    kind = node.kind
    if kind in LITERALS:
        return node
    if kind in ("Name", "Attr"):
        found = lookup(node)
        return found if isinstance(found, Node) else None
    if kind == "Interp":
        pieces = []
        for part in node.kids[0]:
            value = part if part.kind == "Str" else evaluate(part, lookup, text_plus_number)
            if not isinstance(value, Node) or value.kind not in ("Str", "Num", "Bool"):
                return None
            if value.value is None:
                return some_string(node.start, node.end)
            pieces.append(str(value.value))
        return make("Str", node.start, node.end, value="".join(pieces))
    if kind == "IfExp":  # c ? 'a' : 'b' is some string
        branches = [evaluate(k, lookup, text_plus_number) for k in node.kids[1:]]
        if all(isinstance(b, Node) and b.kind == "Str" for b in branches):
            same_text = branches[0].value == branches[1].value and branches[0].value is not None
            return branches[0] if same_text else some_string(node.start, node.end)
        return None
    if kind == "BinOp":
        left = evaluate(node.kids[0], lookup, text_plus_number)
        right = evaluate(node.kids[1], lookup, text_plus_number)
        op = str(node.value)
        if op in ("and", "&&"):  # `c and "s"`: "s" (or a falsy c: semgrep keeps "s")
            return right if isinstance(right, Node) and right.kind == "Str" else None
        if op in ("or", "||"):
            if isinstance(left, Node) and isinstance(right, Node) and left.kind == \
                    right.kind == "Str":
                return left if left.value == right.value else some_string(node.start, node.end)
            return None
        return _binary(node, op, left, right, text_plus_number)
    if kind == "UnOp" and node.value in ("-", "+"):
        operand = evaluate(node.kids[0], lookup)
        if isinstance(operand, Node) and operand.kind == "Num" and isinstance(
                operand.value, (int, float)):
            value = -operand.value if node.value == "-" else operand.value
            return make("Num", node.start, node.end, value=value)
    if kind == "Call" and node.kids[0] is not None and node.kids[0].kind == "Attr":
        if _is_string_format(node.kids[0]) and all(
                isinstance(evaluate(arg, lookup), Node) for arg in node.kids[1]):
            return some_string(node.start, node.end)  # Java's String.format of constants
    return None


def _is_string_format(func: Node) -> bool:
    """``String.format`` (or ``java.lang.String.format``)."""
    obj, name = func.kids
    if name is None or name.kind != "Name" or name.value != "format" or obj is None:
        return False
    if obj.kind == "Attr":
        obj = obj.kids[1]
    return obj is not None and obj.kind == "Name" and obj.value == "String"


def _binary(node: Node, op: str, left: Any, right: Any, text_plus_number: bool) -> Any:
    if not isinstance(left, Node) or not isinstance(right, Node):
        if op in ("*", "%") and any(isinstance(x, Node) and x.kind == "Str"
                                    for x in (left, right)):
            return some_string(node.start, node.end)  # "x" * n, "%s" % y
        return None
    if op == "+" and text_plus_number and {left.kind, right.kind} == {"Str", "Num"}:
        left, right = (make("Str", x.start, x.end, value=_number_text(x.value))
                       if x.kind == "Num" else x for x in (left, right))
    if left.kind == "Str" and right.kind == "Str" and op == "+":
        if left.value is None or right.value is None or \
                len(left.value) + len(right.value) > MAX_STRING:
            return some_string(node.start, node.end)
        return make("Str", node.start, node.end, value=left.value + right.value)
    if op in ("*", "%") and "Str" in (left.kind, right.kind):
        return some_string(node.start, node.end)
    if left.kind == "Num" and right.kind == "Num" and isinstance(left.value, (int, float)) \
            and isinstance(right.value, (int, float)):
        try:
            value = _arithmetic(op, left.value, right.value)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if value is not None:
            return make("Num", node.start, node.end, value=value)
    return None


def _number_text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, (int, float)) else None


def _arithmetic(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    if op == "%":
        return a % b
    if op == "**" and isinstance(b, int) and abs(b) <= 64:
        return a ** b
    if isinstance(a, int) and isinstance(b, int):
        if op == "<<" and 0 <= b <= 64:
            return a << b
        if op == ">>":
            return a >> b
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
    return None


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
        for kid in node.kids:
            if isinstance(kid, Node):
                stack.append(kid)
            elif isinstance(kid, tuple):
                stack.extend(k for k in kid if isinstance(k, Node))
    return False


def assigned_names(scope: Node) -> set[str]:
    """Every name a scope (or a statement) writes, nested scopes left out (their parameters
    and bodies are theirs), its own parameters included."""
    names: set[str] = set()
    if scope.kind == "FuncDef":
        names |= set(_param_names(scope.kids[1]))
        roots: list[Any] = [scope.kids[3]]
    elif scope.kind == "Lambda":
        names |= set(_param_names(scope.kids[0]))
        roots = [scope.kids[1]]
    else:
        roots = [scope]
    stack = [r for r in roots if isinstance(r, Node)]
    while stack:
        node = stack.pop()
        kind = node.kind
        if kind in ("Assign", "AugAssign"):
            names |= set(_target_names(node.kids[0]))
        elif kind == "VarDef" and node.kids[0] is not None:
            names |= set(_target_names(node.kids[0]))
        elif kind == "For":
            names |= set(_target_names(node.kids[0]))
        elif kind == "Catch":
            names |= set(_target_names(node.kids[1]))
        elif kind == "WithItem":
            names |= set(_target_names(node.kids[1]))
        elif kind in ("FuncDef", "ClassDef"):
            names |= set(_target_names(node.kids[0]))
            continue
        elif kind == "Lambda":
            continue
        elif kind == "UnOp" and str(node.value) in INCREMENTS:
            names |= set(_target_names(node.kids[0]))
        elif kind in ("ImportAs", "ImportFrom"):
            continue
        for kid in node.kids:
            if isinstance(kid, Node):
                stack.append(kid)
            elif isinstance(kid, tuple):
                stack.extend(k for k in kid if isinstance(k, Node))
    return names


def _param_names(params: tuple[Node, ...]) -> list[str]:
    names = []
    for param in params:
        target = param.kids[0] if param.kind == "Param" and param.kids else param
        names.extend(_target_names(target))
    return names


def _target_names(target: Node | None) -> list[str]:
    if target is None:
        return []
    if target.kind == "Name":
        return [str(target.value)]
    if target.kind in ("Container", "Record"):
        out = []
        for item in target.kids[0]:
            out.extend(_target_names(item.kids[1] if item.kind in ("Prop", "Pair") else item))
        return out
    if target.kind == "Spread":
        return _target_names(target.kids[0])
    return []


def _destructure(target: Node | None, value: Node | None) -> list[tuple[str, Node | None]]:
    if target is None:
        return []
    if target.kind == "Name":
        return [(str(target.value), value)]
    if target.kind == "Container":
        items = target.kids[0]
        if value is not None and value.kind == "Container" and len(value.kids[0]) == len(items):
            out = []
            for item, assigned in zip(items, value.kids[0], strict=True):
                out.extend(_destructure(item, assigned))
            return out
        return [(name, None) for name in _target_names(target)]
    return [(name, None) for name in _target_names(target)]


def _assignments(statement: Node) -> list[tuple[str, Node | None]]:
    """(name, value) of the module-level assignments a statement makes."""
    if statement.kind == "ExprStmt" and statement.kids[0] is not None:
        inner = statement.kids[0]
        if inner.kind == "Assign":
            return _destructure(inner.kids[0], inner.kids[1])
        if inner.kind == "AugAssign":
            written: list[tuple[str, Node | None]] = [
                (name, None) for name in _target_names(inner.kids[0])]
            return written * 2
        return []
    if statement.kind == "VarDef" and statement.kids[0] is not None:
        return _destructure(statement.kids[0], statement.kids[2])
    if statement.kind in ("FuncDef", "ClassDef"):
        return [(name, None) for name in _target_names(statement.kids[0])]
    if statement.kind in ("If", "For", "While", "Try", "With", "Block"):
        return [(name, None) for name in assigned_names(statement)]
    return []
