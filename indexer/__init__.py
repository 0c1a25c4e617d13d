"""codelens: a live SQLite index of a source tree (hashes, tree-sitter ASTs, tokens, symbols)."""

__version__ = "0.1.0"
