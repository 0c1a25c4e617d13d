"""One converter per language with normalized matching; the rest compare grammar kinds."""

from __future__ import annotations

from indexer.match.lang.base import Converter


def converter_for(language: str) -> type[Converter]:
    """The converter class of ``language`` (the generic, kind-by-kind one when it has none)."""
    if language == "python":
        from indexer.match.lang.python import PythonConverter

        return PythonConverter
    if language == "java":
        from indexer.match.lang.java import JavaConverter

        return JavaConverter
    if language in ("javascript", "typescript", "tsx"):
        from indexer.match.lang.javascript import (
            JavascriptConverter,
            TsxConverter,
            TypescriptConverter,
        )

        return {"javascript": JavascriptConverter, "typescript": TypescriptConverter,
                "tsx": TsxConverter}[language]
    if language == "go":
        from indexer.match.lang.go import GoConverter

        return GoConverter
    return GenericConverter


class GenericConverter(Converter):
    """Every grammar node as an ``Other`` node: code compared kind by kind and leaf text."""

    def _convert(self, index: int) -> object:
        tree = self.tree
        kind = tree.kind(index)
        if kind in ("comment", "line_comment", "block_comment"):
            return None
        if index == 0:
            return self.lazy("Module", index, self._sequence)
        if any(word in kind for word in BLOCK_WORDS):
            return self.lazy("Block", index, self._sequence)
        return self.other(index)

    def _sequence(self, index: int) -> tuple[object, ...]:
        return (self.nodes(self.named(index)),)


BLOCK_WORDS = ("block", "body", "statement_list", "compound_statement")
