"""File extension -> language, grammar loading and parser versions.

Nothing here imports tree-sitter at module load: the no-op index path only needs
``language_for_path``. Grammars come from installed packages (never the network): an official
``tree-sitter-<lang>`` package when one is installed (newer grammar, ships ``queries/tags.scm``),
else the compiled ``languages.so`` of the ``tree-sitter-languages`` bundle, loaded with ctypes
into the current runtime through a PyCapsule.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any, NamedTuple

from indexer.codec import FORMAT_VERSION
from indexer.tokens import TOKENIZER_VERSION

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".hxx": "cpp", ".cs": "c_sharp", ".rb": "ruby", ".php": "php",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash",
    ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".sc": "scala", ".lua": "lua",
    ".css": "css", ".html": "html", ".htm": "html", ".json": "json", ".toml": "toml",
    ".yaml": "yaml", ".yml": "yaml", ".md": "markdown", ".sql": "sql", ".r": "r", ".R": "r",
    ".jl": "julia", ".hs": "haskell", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang",
    ".hrl": "erlang", ".elm": "elm", ".ml": "ocaml", ".mli": "ocaml", ".pl": "perl",
    ".pm": "perl", ".m": "objc", ".mm": "objc", ".el": "elisp", ".lisp": "commonlisp",
    ".cl": "commonlisp", ".hcl": "hcl", ".tf": "hcl", ".f90": "fortran", ".f95": "fortran",
    ".f03": "fortran", ".f": "fixed_form_fortran", ".for": "fixed_form_fortran",
    ".dot": "dot", ".gv": "dot", ".rst": "rst", ".erb": "embedded_template",
    ".ejs": "embedded_template", ".ql": "ql", ".hack": "hack", ".mk": "make", ".scm": "tsq",
}
FILENAMES: dict[str, str] = {
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make", "Dockerfile": "dockerfile",
    "go.mod": "gomod", "Rakefile": "ruby", "Gemfile": "ruby",
}
# official package module -> {language: entry point}; preferred over the bundle
OFFICIAL: dict[str, dict[str, str]] = {
    "tree_sitter_python": {"python": "language"},
    "tree_sitter_javascript": {"javascript": "language"},
    "tree_sitter_typescript": {"typescript": "language_typescript", "tsx": "language_tsx"},
    "tree_sitter_go": {"go": "language"},
    "tree_sitter_java": {"java": "language"},
    "tree_sitter_rust": {"rust": "language"},
    "tree_sitter_c": {"c": "language"},
    "tree_sitter_cpp": {"cpp": "language"},
    "tree_sitter_ruby": {"ruby": "language"},
    "tree_sitter_php": {"php": "language_php"},
}
BUNDLE_LANGUAGES = frozenset(set(EXTENSIONS.values()) | set(FILENAMES.values()))


class GrammarUnavailable(LookupError):
    """No installed package provides a grammar for the language."""


def language_for_path(path: str) -> str | None:
    """The language of a file from its name, or None when codelens has no grammar for it."""
    name = path.rpartition("/")[2]
    if name in FILENAMES:
        return FILENAMES[name]
    return EXTENSIONS.get(os.path.splitext(name)[1])


class Grammar(NamedTuple):
    name: str
    language: Any  # tree_sitter.Language
    version: str  # the parser version recorded with every AST: grammar, runtime, formats
    tags_query: str | None
    capsule: Any  # the package's language() PyCapsule (tree_sitter.Language): for the native walker


def known_languages() -> list[str]:
    """Every language name codelens maps files to."""
    return sorted(BUNDLE_LANGUAGES)


def _official_module(name: str) -> tuple[str, str] | None:
    """(module, entry point) of the installed official package for ``name``, if any."""
    for module_name, entries in OFFICIAL.items():
        if name in entries and importlib.util.find_spec(module_name) is not None:
            return module_name, entries[name]
    return None


@functools.cache
def parser_version(name: str) -> str:
    """What an AST of ``name`` is keyed by: grammar package and version, runtime, our formats.

    Computed from package metadata alone, so the no-op path never imports tree-sitter.
    """
    official = _official_module(name)
    module = official[0] if official else "tree_sitter_languages"
    grammar = f"{module.replace('_', '-')}=={installed_version(module)}"
    return f"{grammar}/ts{installed_version('tree_sitter')}/fmt{FORMAT_VERSION}" \
           f"/tok{TOKENIZER_VERSION}"


@functools.cache
def installed_version(module: str) -> str:
    """Version of the distribution that installs ``module``, read from the name of its
    ``*.dist-info`` folder (importing importlib.metadata costs the no-op path ~35 ms)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise GrammarUnavailable(f"{module.replace('_', '-')} is not installed")
    site = Path(spec.origin).parent.parent
    for entry in _listing(site):
        name, _, rest = entry.partition("-")
        if rest.endswith(".dist-info") and name.lower() == module.lower():
            return rest[: -len(".dist-info")]
    from importlib import metadata

    try:
        return metadata.version(module.replace("_", "-"))
    except metadata.PackageNotFoundError as exc:
        raise GrammarUnavailable(f"no version found for {module}") from exc


@functools.cache
def _listing(directory: Path) -> tuple[str, ...]:
    return tuple(os.listdir(directory))


@functools.cache
def load_grammar(name: str) -> Grammar:
    """Load the grammar of ``name``; raises GrammarUnavailable when no package provides it."""
    import tree_sitter

    version = parser_version(name)
    official = _official_module(name)
    if official:
        module = importlib.import_module(official[0])
        capsule = getattr(module, official[1])()
        return Grammar(name, tree_sitter.Language(capsule), version,
                       _read_tags(Path(str(module.__file__)).parent), capsule)
    capsule = _capsule(_bundle_pointer(name))
    return Grammar(name, tree_sitter.Language(capsule), version, None, capsule)


def _read_tags(package_dir: Path) -> str | None:
    path = package_dir / "queries" / "tags.scm"
    return path.read_text() if path.is_file() else None


@functools.cache
def _bundle_library() -> Any:
    import ctypes  # here, not at the top: the no-op path never loads a grammar

    try:
        import tree_sitter_languages
    except ImportError as exc:  # absent on Python >= 3.13: only official packages there
        raise GrammarUnavailable("tree-sitter-languages is not installed") from exc
    return ctypes.CDLL(str(Path(tree_sitter_languages.__file__).parent / "languages.so"))


def _bundle_pointer(name: str) -> int:
    try:
        function = getattr(_bundle_library(), f"tree_sitter_{name}")
    except AttributeError as exc:
        raise GrammarUnavailable(f"no grammar for {name!r} in tree-sitter-languages") from exc
    import ctypes

    function.restype = ctypes.c_void_p
    return int(function())


def _capsule(pointer: int) -> object:
    import ctypes

    new = ctypes.pythonapi.PyCapsule_New
    new.restype = ctypes.py_object
    new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(pointer, b"tree_sitter.Language", None)
