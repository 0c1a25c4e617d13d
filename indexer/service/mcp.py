"""``codelens serve --mcp``: MCP over stdio for AI agents, answered by the root's daemon.

It starts (or reuses) the daemon of the root, with ``--ppid`` of itself so the daemon does not
outlive an agent that exits, and exposes tools: query, scan, status, find_symbol and
changed_since. It exits when stdin closes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from indexer.service import client


def build_server(root: Path) -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("codelens", instructions=(
        f"A live index of {root}: files, symbols, tokens and rule findings, queried with SQL."))

    @server.tool()
    def query(sql: str) -> dict[str, Any]:
        """Run read-only SQL on the index (tables files, asts, tokens, postings, findings;
        views file_tokens, symbols, changes). Returns columns and rows."""
        result: dict[str, Any] = client.call(root, "query", {"sql": sql})
        return result

    @server.tool()
    def scan(rules: str) -> dict[str, Any]:
        """Match semgrep-format rules against the project: ``rules`` is a path to a rule file
        or folder, or the YAML text of rules. Returns semgrep-compatible JSON."""
        import json

        path = Path(rules)
        if "\n" in rules or not path.exists():
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
                handle.write(rules)
            path = Path(handle.name)
        try:
            reply = client.call(root, "scan", {"configs": [str(path)], "output": "json"})
        finally:
            if path.name.startswith("tmp") and path.parent == Path(tempfile.gettempdir()):
                path.unlink(missing_ok=True)
        report: dict[str, Any] = json.loads(reply["output"])
        return report

    @server.tool()
    def status() -> dict[str, Any]:
        """Files by language and status, failures, database size, generation."""
        result: dict[str, Any] = client.call(root, "status")
        return result

    @server.tool()
    def find_symbol(name: str) -> list[dict[str, Any]]:
        """Definitions named ``name``: path, kind and line span."""
        escaped = name.replace("'", "''")
        reply = client.call(root, "query", {"sql": (
            "SELECT path, name, kind, start_line, end_line FROM symbols"
            f" WHERE name = '{escaped}' ORDER BY path, start_line")})
        return [dict(zip(reply["columns"], row, strict=True)) for row in reply["rows"]]

    @server.tool()
    def changed_since(generation: int) -> dict[str, Any]:
        """Paths added, modified or deleted after ``generation``, and the current generation."""
        reply = client.call(root, "query", {"sql": (
            "SELECT path, change, generation FROM changes"
            f" WHERE generation > {int(generation)} ORDER BY generation, path")})
        rows = [dict(zip(reply["columns"], row, strict=True)) for row in reply["rows"]]
        latest = max([generation] + [r["generation"] for r in rows])
        return {"generation": latest, "changes": rows}

    return server


def serve(root: Path) -> int:
    root = root.resolve()
    client.start(root, ppid=os.getpid())
    build_server(root).run("stdio")
    return 0
