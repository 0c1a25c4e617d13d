"""Long-running front ends: the watcher, the per-project daemon and the MCP server."""
