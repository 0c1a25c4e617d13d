"""Parsing: the per-file work (worker.py) and the supervisor of worker processes (pool.py)."""
