"""Where a root's daemon lives, and its wire format: newline-delimited JSON-RPC 2.0.

Sockets live in a per-user directory with mode 0700 (the socket itself 0600), so no other
user can connect. A registry under ``~/.codelens/daemons/`` holds one JSON file per root,
named by the SHA-256 of the root path: pid, socket, root, start time.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from indexer.errors import CodelensError

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (
    -32700, -32600, -32601, -32602, -32603)
CODELENS_ERROR = -32000  # a CodelensError: data carries its exit code and hint


class DaemonError(CodelensError):
    """The daemon could not be reached or answered with an error."""

    title = "daemon"


def root_key(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()


def runtime_dir() -> Path:
    """A private folder for sockets and locks: $XDG_RUNTIME_DIR/codelens or /tmp/codelens-UID."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "codelens" if base else Path(f"/tmp/codelens-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise DaemonError(f"{folder} is not private to this user (owner {info.st_uid}, mode "
                          f"{oct(info.st_mode & 0o777)})", "remove it; codelens recreates it")
    return folder


def socket_path(root: Path) -> Path:
    return runtime_dir() / f"{root_key(root)[:24]}.sock"


def lock_path(root: Path) -> Path:
    return runtime_dir() / f"{root_key(root)[:24]}.lock"


def registry_dir() -> Path:
    """~/.codelens/daemons, private to the user (0700; a folder an older codelens made 0755
    is tightened): its entries name the user's roots and sockets."""
    folder = Path(os.path.expanduser("~")) / ".codelens" / "daemons"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path`` readable by its owner only (0600), replaced atomically."""
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # also when .tmp was left behind with other modes
        handle.write(text)
    partial.rename(path)


def registry_file(root: Path) -> Path:
    return registry_dir() / f"{root_key(root)}.json"


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def request(method: str, params: dict[str, Any] | None = None, ident: int = 1) -> bytes:
    return encode({"jsonrpc": "2.0", "id": ident, "method": method, "params": params or {}})


def call(path: Path, method: str, params: dict[str, Any] | None = None,
         timeout: float | None = 600) -> Any:
    """One request to the daemon at ``path``; returns its result or raises DaemonError (or the
    CodelensError the daemon reported)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout)
            client.connect(str(path))
            client.sendall(request(method, params))
            reply = _read_line(client)
    except OSError as exc:
        raise DaemonError(f"cannot reach the daemon at {path}: {exc}") from exc
    if not reply:
        raise DaemonError(f"the daemon at {path} closed the connection without answering")
    message = json.loads(reply)
    if "error" in message:
        error = message["error"]
        data = error.get("data") or {}
        if error.get("code") == CODELENS_ERROR:
            failure = CodelensError(error["message"], data.get("hint", ""))
            failure.exit_code = int(data.get("exit_code", 2))
            raise failure
        raise DaemonError(f"daemon error {error.get('code')}: {error.get('message')}")
    return message["result"]


def _read_line(client: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = client.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)
