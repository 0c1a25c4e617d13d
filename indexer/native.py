"""The C helpers of indexer/_native.c, when they are built and not turned off.

Every caller has a Python path that gives the same result; ``CODELENS_NATIVE=0`` makes them all
take it. Tree functions need more: see ``indexer.parse.library.native_walker``.
"""

from __future__ import annotations

import os
from typing import Any

NATIVE_ENV = "CODELENS_NATIVE"


def module() -> Any:
    """``indexer._native``, or None when it is not built or ``CODELENS_NATIVE=0``."""
    if os.environ.get(NATIVE_ENV) == "0":
        return None
    try:
        from indexer import _native  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _native
