"""The C helpers of indexer/_native.c, when they are built and not turned off.

Every caller has a Python path that gives the same result; ``CODELENS_NATIVE=0`` makes them all
take it. Parsing needs more: see ``indexer.parse.library.native_walker``. The package build
compiles the module as an optional extension, so an install without a C compiler has none.
"""

from __future__ import annotations

import functools
import os
from typing import Any

NATIVE_ENV = "CODELENS_NATIVE"
API_VERSION = 2  # indexer._native.API_VERSION this code calls (2: parse() packs the tree)


def module() -> Any:
    """``indexer._native``, or None when it is not built or ``CODELENS_NATIVE=0``."""
    if os.environ.get(NATIVE_ENV) == "0":
        return None
    return _load()[0]


def unavailable() -> str:
    """Why ``indexer._native`` does not load (meaningful when ``module()`` gave None)."""
    return _load()[1]


@functools.cache
def _load() -> tuple[Any, str]:
    import importlib

    try:
        _native = importlib.import_module("indexer._native")
    except ModuleNotFoundError as exc:
        if exc.name != "indexer._native":
            return None, f"cannot load: {exc}"
        return None, ("not built: codelens was installed without a working C compiler and "
                      "Python headers; reinstall with them (in a checkout: make native)")
    except ImportError as exc:  # built for another Python, or a missing symbol
        return None, f"cannot load: {exc}"
    return _native, ""
