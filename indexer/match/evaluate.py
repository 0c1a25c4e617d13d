"""A rule evaluated on one file: its formula's leaves found, its conditions applied, its
final matches with their bindings (what formula.py combines, this module supplies)."""

from __future__ import annotations

from typing import Any, NamedTuple

from indexer.match import formula as F
from indexer.match import regexes
from indexer.match.compare import evaluate_comparison
from indexer.match.equiv import same_binding
from indexer.match.node import LITERALS, Node, make
from indexer.match.pattern import Pattern, PatternError, compile_pattern
from indexer.match.search import Target, find

DEFAULT_OPTIONS = {"constant_propagation": True, "symbolic_propagation": False,
                   "ac_matching": True, "commutative_boolop": False, "vardef_assign": True,
                   "implicit_ellipsis": True}


Pending = tuple[F.Range, list[dict[str, Any]]]


class Found(NamedTuple):
    """One match of a rule: a byte range and what its metavariables bound."""

    start: int
    end: int
    env: dict[str, Any]


class Evaluation:
    """One rule on one target."""

    def __init__(self, target: Target, rule_languages: tuple[str, ...],
                 options: dict[str, Any] | None = None) -> None:
        self.target = target
        self.rule_languages = rule_languages
        self.options = {**DEFAULT_OPTIONS, **(options or {})}
        target.matcher.options = self.options  # a file's rules run one after the other
        self.errors: list[str] = []

    # ---- leaves

    def compiled(self, source: str, language: str | None = None) -> Pattern:
        """The pattern in the target's language, else in the rule's first language."""
        wanted = language or self.target.language
        try:
            return compile_pattern(source, wanted)
        except PatternError:
            if language is None and self.rule_languages and \
                    self.rule_languages[0] != wanted:
                return compile_pattern(source, self.rule_languages[0])
            raise

    def pattern_ranges(self, leaf: F.PatternLeaf, context: F.Range | None,
                       inside: bool = False, within: F.Spans | None = None) -> list[F.Range]:
        pattern = self.compiled(leaf.source)
        start_env = dict(context.env) if context is not None else {}
        if context is not None:
            within = F.narrow(within, [(context.start, context.end)])
        ranges = []
        for match in find(pattern, self.target, inside=inside, env=start_env, within=within):
            if context is not None and not (context.start <= match.start and
                                            match.end <= context.end):
                continue
            env = match.env
            if leaf.alias is not None:
                env = dict(env)
                env[leaf.alias] = make("Span", match.start, match.end,
                                       value=self.text(match.start, match.end))
            ranges.append(F.Range(match.start, match.end, env))
        return ranges

    def regex_ranges(self, regex: str, context: F.Range | None) -> list[F.Range]:
        """Where ``regex`` matches: in the file, or in a metavariable-pattern's context (its
        text alone, as semgrep reads a metavariable's content: ``^`` is its start)."""
        source = self.target.source
        base = 0
        if context is not None:
            base = context.start
            source = source[context.start:context.end]
        text = source.decode("utf-8", "replace")
        if len(text.encode()) != len(source):
            text_offsets = _offsets(text)
        else:
            text_offsets = None
        ranges = []
        for match in regexes.finditer(regex, text):
            if match.end() == match.start():
                continue
            start, end = match.start(), match.end()
            if text_offsets is not None:
                start, end = text_offsets[start], text_offsets[end]
            env: dict[str, Any] = {}
            for name, key, value in _groups(match, numbered=False):
                group_start, group_end = match.span(key)
                if text_offsets is not None:
                    group_start, group_end = text_offsets[group_start], text_offsets[group_end]
                env["$" + name] = make("Span", base + group_start, base + group_end,
                                       value=value)
            ranges.append(F.Range(base + start, base + end, env, "regex"))
        return ranges

    # ---- conditions

    def filter(self, pending: list[Pending], condition: Any) -> list[Pending]:
        """Ranges that pass a condition, each with the bindings conditions made so far."""
        out: list[Pending] = []
        for r, extras in pending:
            if isinstance(condition, F.MetavarRegex):
                captured = self._regex_filter(r, condition)
                if captured is not None:
                    out.append((r, extras + [captured] if captured else extras))
            elif isinstance(condition, F.MetavarPattern):
                found = self._nested(r, condition)
                if found:
                    out.append((r, extras + [x for x in found if x]))
            elif isinstance(condition, F.Comparison):
                if self._compare(r, condition):
                    out.append((r, extras))
            elif isinstance(condition, F.MetavarType):
                if self._typed(r, condition):
                    out.append((r, extras))
            elif isinstance(condition, F.Analysis):
                if self._analysis(r, condition):
                    out.append((r, extras))
        return out

    def _regex_filter(self, r: F.Range, condition: F.MetavarRegex) -> dict[str, Any] | None:
        """None when the regex does not match the binding, else its capture groups."""
        value = r.env.get(condition.name)
        if value is None:
            return None
        text = self.bound_text(value)
        if condition.constant_propagation:
            constant = self.target.facts.constant(value) if isinstance(value, Node) else None
            if constant is not None and constant.kind == "Str" and constant.value is not None:
                text = constant.value
        found = regexes.match(condition.regex, text)
        if found is None:
            return None
        captured: dict[str, Any] = {}
        base = value.start if isinstance(value, Node) else 0
        for name, key, group_value in _groups(found):
            span = found.span(key)
            captured["$" + name] = make("Span", base + span[0], base + span[1],
                                        value=group_value)
        return captured

    def _nested(self, r: F.Range, condition: F.MetavarPattern) -> list[dict[str, Any]]:
        """The new bindings of each match of the nested formula (an empty list: none)."""
        value = r.env.get(condition.name)
        if value is None:
            return []
        language = condition.language
        quoted = isinstance(value, Node) and value.kind == "Str" and language is not None
        made_up = isinstance(value, Node) and value.kind == "Name" and value.raw < 0
        if not quoted and not made_up and (language is None or language == self.target.language or (
                language in self.rule_languages and self.target.language in ("typescript",
                                                                              "tsx"))):
            if not isinstance(value, (Node, tuple)) or (
                    isinstance(value, Node) and value.kind == "Text"):
                return []
            if self.options.get("symbolic_propagation") and isinstance(value, Node) and \
                    value.kind == "Name":
                value = self.target.facts.symbol(value) or value  # what the name holds
            start, end = _span_of(value)
            context = F.Range(start, end, r.env)
            return self._persist(r, F.evaluate(condition.formula, self, context))
        content = self._text_content(value)
        if content is None:
            return []
        nested = self._snippet(content, language or self.target.language)
        if nested is None:
            return []
        context = F.Range(0, len(nested.target.source), r.env)
        found = F.evaluate(condition.formula, nested, context)
        offset = _content_offset(value)
        shifted = [x._replace(env={k: _shift(v, offset, nested) for k, v in x.env.items()})
                   for x in found]
        return self._persist(r, shifted)

    def _persist(self, r: F.Range, found: list[F.Range]) -> list[dict[str, Any]]:
        """Per nested match, the bindings it made that the outer range does not have."""
        out, seen = [], set()
        for nested in found:
            new = {k: v for k, v in nested.env.items() if k not in r.env}
            key = F.binding_key(new)
            if key not in seen:
                seen.add(key)
                out.append(new)
        return out

    def _snippet(self, content: str, language: str) -> Evaluation | None:
        from indexer.match.snippet import parse_snippet

        tree = parse_snippet(content, language)
        if tree is None:
            self.errors.append(f"metavariable-pattern: cannot parse the content as {language}")
            return None
        return Evaluation(Target(tree, self.options), (language,), self.options)

    def _text_content(self, value: Any) -> str | None:
        if isinstance(value, Node):
            if value.kind in ("Text", "Span"):
                return str(value.value)
            if value.kind == "Str" or value.kind == "Name" and value.raw < 0:
                return str(value.value)  # a string's content, a resolved import's name
        return None

    def _compare(self, r: F.Range, condition: F.Comparison) -> bool:
        values = {name: self.comparison_value(v, condition) for name, v in r.env.items()}
        return evaluate_comparison(condition.comparison, values)

    def comparison_value(self, value: Any, condition: F.Comparison) -> Any:
        """What a binding is worth in a comparison: a literal's value (a constant's, for a
        name), else its text."""
        if isinstance(value, Node):
            literal = self.target.facts.constant(value) if value.kind not in (
                "Text", "Span") else None
            if literal is not None and literal.kind in LITERALS:
                if literal.kind == "Str" and condition.base is not None:
                    return _int_or_text(literal.value, condition.base)
                return literal.value
            text = self.bound_text(value)
            if condition.strip:
                text = text.strip("\"'`")
            if condition.base is not None:
                return _int_or_text(text, condition.base)
            return _number_or_text(text) if value.kind in ("Text", "Span") else text
        return self.bound_text(value)

    def _typed(self, r: F.Range, condition: F.MetavarType) -> bool:
        value = r.env.get(condition.name)
        if not isinstance(value, Node):
            return False
        language = condition.language or self.target.language
        for type_text in condition.types:
            try:
                wanted = compile_pattern(f"({type_text} $__TYPED)" if language in (
                    "java", "c", "cpp", "c_sharp") else f"($__TYPED : {type_text})", language)
            except PatternError:
                continue
            if any(True for _ in self.target.matcher.m(wanted.node, value, {})):
                return True
        return False

    def _analysis(self, r: F.Range, condition: F.Analysis) -> bool:
        value = r.env.get(condition.name)
        if value is None:
            return False
        text = self._text_content(value) or self.bound_text(value).strip("\"'`")
        if condition.analyzer == "entropy":
            from indexer.match.analysis import high_entropy

            return high_entropy(text)
        from indexer.match.analysis import redos_prone

        return redos_prone(text)

    # ---- focus and bindings

    def focus(self, ranges: list[F.Range], names: tuple[str, ...]) -> list[F.Range]:
        out = []
        for r in ranges:
            spans = [_span_of(r.env[n]) for n in names if n in r.env]
            if len(spans) != len(names):
                continue
            for start, end in spans:
                if r.start <= start and end <= r.end:
                    out.append(F.Range(start, end, r.env, r.kind))
                elif start <= r.start and r.end <= end:
                    out.append(r)
        return F.unique(out)

    def same_binding(self, a: Any, b: Any) -> bool:
        return same_binding(a, b, self.target.facts)

    def text(self, start: int, end: int) -> str:
        return self.target.source[start:end].decode("utf-8", "replace")

    def bound_text(self, value: Any) -> str:
        if isinstance(value, Node) and value.kind in ("Text", "Span"):
            return str(value.value)
        if isinstance(value, Node) and value.kind == "Name" and value.raw < 0:
            return str(value.value)  # a name import resolution made up (foo for baz)
        if isinstance(value, tuple) and not value:
            return ""
        start, end = _span_of(value)
        return self.text(start, end)


def rule_matches(formula: Any, run: Evaluation) -> list[Found]:
    """The final matches of a rule on a file: each range once (its first bindings), and of
    the ranges that start at one place with the same bindings only the longest (a final
    ``...`` can end a sequence at several places: one finding). Nested matches that start
    elsewhere stay, as semgrep reports them."""
    ranges = F.evaluate(formula, run)
    kept: dict[tuple[Any, ...], F.Range] = {}
    for r in sorted(ranges, key=lambda x: (x.start, -x.end)):
        kept.setdefault((r.start, F.binding_key(r.env)), r)
    by_range: dict[tuple[int, int], F.Range] = {}
    for r in kept.values():
        by_range.setdefault((r.start, r.end), r)
    return [Found(r.start, r.end, r.env) for r in sorted(by_range.values(),
                                                          key=lambda x: (x.start, x.end))]

def _span_of(value: Any) -> tuple[int, int]:
    if isinstance(value, tuple):
        if not value:
            return (0, 0)
        return value[0].start, value[-1].end
    return value.start, value.end


def _groups(match: Any, numbered: bool = True) -> list[tuple[str, Any, str]]:
    """(metavariable name, group key, text) of each group that matched: named groups by
    name, and (for metavariable-regex) every group by number too ($1, $2, ...)."""
    out = []
    for name, value in match.groupdict().items():
        if value is not None:
            out.append((str(name), name, value))
    for index in range(1, (match.re.groups or 0) + 1 if numbered else 1):
        if match.group(index) is not None:
            out.append((str(index), index, match.group(index)))
    return out


def _offsets(text: str) -> list[int]:
    """Byte offset of each character position of ``text`` (and of its end)."""
    offsets, position = [], 0
    for char in text:
        offsets.append(position)
        position += len(char.encode("utf-8", "replace"))
    offsets.append(position)
    return offsets


def _content_offset(value: Any) -> int:
    if isinstance(value, Node) and value.kind == "Str":
        return value.start + 1
    return value.start if isinstance(value, Node) else 0


def _shift(value: Any, offset: int, nested: Evaluation) -> Any:
    if isinstance(value, Node):
        return make("Span", value.start + offset, value.end + offset,
                    value=nested.bound_text(value))
    return value


def _number_or_text(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _int_or_text(text: str, base: int) -> Any:
    try:
        return int(text, base)
    except ValueError:
        return text
