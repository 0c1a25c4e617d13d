"""Parsing: the per-file work as a library (library.py), the worker process that serves it
(worker.py) and the supervisor of worker processes (pool.py)."""
