"""The liveness watchdog of a daemon: a small separate process that kills it when its loop
stops heartbeating (a wedged daemon), and clears its socket and registry entry so that the
next client starts a fresh one.

``python -m indexer.service.liveness PID HEARTBEAT TIMEOUT SOCKET REGISTRY``
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def watch(pid: int, heartbeat: Path, timeout: float, leftovers: list[Path]) -> int:
    while True:
        time.sleep(min(0.5, timeout / 4))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0  # the daemon is gone: nothing to watch
        try:
            silent = time.time() - heartbeat.stat().st_mtime
        except FileNotFoundError:
            return 0  # the daemon cleaned up and is exiting
        if silent > timeout:
            print(f"codelens: daemon {pid} has not heartbeaten for {silent:.0f} s; killing it",
                  file=sys.stderr, flush=True)
            os.kill(pid, signal.SIGKILL)
            for path in leftovers:
                path.unlink(missing_ok=True)
            return 0


def main() -> int:
    pid, heartbeat, timeout, *leftovers = sys.argv[1:]
    return watch(int(pid), Path(heartbeat), float(timeout), [Path(p) for p in leftovers])


if __name__ == "__main__":
    sys.exit(main())
