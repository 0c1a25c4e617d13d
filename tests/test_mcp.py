"""codelens serve --mcp driven by a real MCP client from the SDK, over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from indexer.service import client
from tests.conftest import EVAL_RULE as RULE
from tests.conftest import REPO, wait_until, write_tree
from tests.test_daemon import each_test_private  # noqa: F401 - its autouse fixture, reused


def payload(result: Any) -> Any:
    """A tool's structured result, or its text content parsed as JSON."""
    if result.structured_content:
        content = result.structured_content
        return content.get("result", content) if isinstance(content, dict) else content
    return json.loads(result.content[0].text)


async def session_run(root: Path) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = StdioServerParameters(command=sys.executable,
                                   args=["-m", "indexer.cli", "serve", "--mcp", "--root",
                                         str(root)],
                                   env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=str(REPO))
    found: dict[str, Any] = {}
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        found["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
        entry = client.running(root)
        assert entry is not None
        found["daemon_pid"] = entry["pid"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = payload(await session.call_tool("query", {"sql": "SELECT count(*) FROM files"}))
            if reply["rows"] == [[3]]:
                break
            await asyncio.sleep(0.05)
        found["query"] = reply
        found["symbol"] = payload(await session.call_tool("find_symbol", {"name": "alpha"}))
        found["status"] = payload(await session.call_tool("status", {}))
        found["scan"] = payload(await session.call_tool("scan", {"rules": RULE}))
        found["scan_path"] = payload(await session.call_tool(
            "scan", {"rules": str(root / "rules.yaml")}))
        found["changes"] = payload(await session.call_tool("changed_since", {"generation": 0}))
        bad = await session.call_tool("query", {"sql": "DELETE FROM files"})
        found["bad_is_error"] = bad.is_error
    return found


def test_mcp_tools_over_stdio(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "project", {"src/a.py": "def alpha():\n    return eval(x)\n",
                                             "rules.yaml": RULE, "notes.txt": "hi\n"})
    found = asyncio.run(session_run(root))
    assert found["tools"] == ["changed_since", "find_symbol", "query", "scan", "status"]
    assert found["query"]["rows"] == [[3]]
    assert found["symbol"] == [{"path": "src/a.py", "name": "alpha", "kind": "function",
                                "start_line": 1, "end_line": 2}]
    assert found["status"]["files"] == 3
    assert [r["check_id"] for r in found["scan"]["results"]] == ["no-eval"]
    assert [r["check_id"] for r in found["scan_path"]["results"]] == ["no-eval"]
    assert {c["path"] for c in found["changes"]["changes"]} == {"src/a.py", "rules.yaml",
                                                                "notes.txt"}
    assert found["changes"]["generation"] >= 1
    assert found["bad_is_error"] is True
    # stdin closed: the server is gone, and its daemon (tied to it by --ppid) follows
    wait_until(lambda: client.running(root) is None, timeout=20)
