"""A request to stop, set by a signal and honoured between files.

``codelens index`` must never be stopped inside a commit: SQLite would roll that batch back
while the run says everything parsed was kept. Under ``graceful()``, the first SIGINT or
SIGTERM only sets a flag that the engine looks at between files (it then commits what is
done and raises Interrupted); a second one raises KeyboardInterrupt at once, for a run that
is stuck somewhere else.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_state = {"requested": False}


def requested() -> bool:
    return _state["requested"]


def request() -> None:
    _state["requested"] = True


@contextmanager
def graceful() -> Iterator[None]:
    """First SIGINT/SIGTERM: a stop request; the second: KeyboardInterrupt."""

    def handler(_signum: int, _frame: Any) -> None:
        if _state["requested"]:
            raise KeyboardInterrupt
        request()

    _state["requested"] = False
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        _state["requested"] = False
