"""The stages wired together: index() brings the database up to date with the tree.

walk -> stat diff -> hash the stat-changed -> cached AST or parse (pool) -> batched commits.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from indexer import changes as change_detection
from indexer import languages, stopping
from indexer.errors import Interrupted
from indexer.model import FileStamp, ParseResult, ParseTask, PoolStats, WalkedFile
from indexer.settings import BINARY_SNIFF_BYTES, IndexOptions
from indexer.walk import WalkReport, tree_digest, walk, walk_paths, within

Progress = Callable[[int, int], None]  # (done, total) of the files that need work
PARSED_STATUSES = ("ok", "syntax_error")
PRELOAD_ASTS_AT = 1000  # candidates: from here, read all AST keys once, not one query each


class IndexCounts:
    __slots__ = ("seen", "unchanged", "added", "modified", "deleted", "parsed", "failed",
                 "skipped", "hits", "misses")

    def __init__(self) -> None:
        self.seen = self.unchanged = self.added = self.modified = self.deleted = 0
        self.parsed = self.failed = self.skipped = self.hits = self.misses = 0


class _Candidate(NamedTuple):
    walked: WalkedFile
    previous: Any  # StoredFile | None
    stale: bool  # content unchanged, but the stored outcome no longer fits the options


class _Run:
    """State of one index run while files stream through it."""

    def __init__(self, options: IndexOptions, writer: Any, counts: IndexCounts,
                 progress: Progress | None, total: int) -> None:
        self.options = options
        self.writer = writer  # IndexWriter
        self.counts = counts
        self.progress = progress
        self.total = total
        self.done = 0
        self.in_flight: dict[int, tuple[_Candidate, str, str]] = {}
        self.leaders: dict[tuple[str, str], int] = {}  # content -> the task parsing it
        self.followers: dict[int, list[_Candidate]] = {}  # same content, waiting for it
        self.keep_content = 0  # files up to this size go to the parser with their bytes

    def resolved(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def index(options: IndexOptions, progress: Progress | None = None,
          paths: set[str] | None = None, pool: Any = None,
          waiting: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Index ``options.root`` into ``options.db_path``; returns the run summary. With
    ``paths`` (relative files or folders, as a watcher reports them) only those are looked at.
    ``pool``: a parser to use and keep (a daemon's warm workers) instead of a fresh one.
    Another writer is waited for up to ``options.lock_timeout`` seconds (``waiting`` is told
    once).

    Raises LockedError when another indexer holds the database, DatabaseError when it is
    unusable, Interrupted on SIGINT/SIGTERM after committing everything already parsed.
    """
    from indexer.store.connection import open_db, writer_lock
    from indexer.store.reader import last_options_hash, load_stamps, stored_languages
    from indexer.store.runs import record_run, utc_now

    if not options.root.is_dir():  # gone (and never recreated by opening its database)
        from indexer.errors import UsageError

        raise UsageError(f"{options.root} is not a folder (any more?)",
                         "index an existing folder")
    started_at, clock = utc_now(), time.perf_counter()
    counts = IndexCounts()
    early = None  # a pool this run started before its walk
    with writer_lock(options.db_path, options.lock_timeout, waiting):
        connection = open_db(options.db_path)
        try:
            last_hash, state = last_options_hash(connection)
            # a complete run recorded its languages: the files table has not changed since
            # (any run in between records no state), and scanning it cost a no-op 4 ms
            present = set(state["languages"]) if state and "languages" in state else \
                stored_languages(connection)
            options_hash = _options_hash(options, present)
            recheck = options_hash != last_hash and paths is None
            report = WalkReport()
            before: str | None = None  # the tree digest, for a run over the whole tree
            pruned: list[str] = state["pruned"] if state else []
            if paths is None:
                # one pass of stat calls over the tree, before the walk: if nothing changed
                # since the last complete run, that is the whole run (see indexer/schema/0003)
                before = tree_digest(options.root, pruned)
                if before is not None and not recheck and state and state["digest"] == before:
                    return _unchanged(connection, options, started_at, clock, counts, state,
                                      options_hash)
            stamps = load_stamps(connection)
            if paths is None and pool is None and not stamps and before is not None:
                early = _prestarted_pool(options, before)
            if paths is None:
                walked = walk(options.root, report)
            else:
                stamps = {p: s for p, s in stamps.items() if within(p, paths)}
                walked = walk_paths(options.root, paths, report)
            diff = change_detection.diff(stamps, walked)
            if report.problems:  # what the walk could not look at is not gone
                unseen = {"" if path == "." else path for path, _ in report.problems}
                kept = [p for p in diff.deleted if within(p, unseen)]
                diff.deleted = [p for p in diff.deleted if not within(p, unseen)]
                diff.unchanged += kept
            candidates = _candidates(connection, diff, options, recheck)
            counts.seen, counts.unchanged = diff.seen, diff.seen - len(candidates)
            with _rare_collections():
                generation, pool_stats = _apply(connection, options, candidates,
                                                diff.deleted, counts, progress, pool, early)
            summary = _summary(options, generation, counts, pool_stats, clock, report)
            walk_state = None
            if paths is None and not report.problems:
                # the digest taken before the walk describes what this run indexed, unless
                # something changed since: then the next run's digest differs, and it walks
                now_pruned = sorted(report.pruned)
                digest = before if now_pruned == sorted(pruned) else _repruned_digest(
                    options.root, pruned, before, now_pruned)
                walk_state = {"digest": digest, "pruned": now_pruned,
                              "links_skipped": report.links_skipped}
            if candidates or diff.deleted:  # the languages present may have changed: hash what
                present = stored_languages(connection)  # the next run will compare with
                options_hash = _options_hash(options, present)
            if walk_state is not None:
                walk_state["languages"] = sorted(present)
            record_run(connection, started_at, options_hash, summary, walk_state)
            return summary
        finally:
            if early is not None:
                early.close()
            connection.close()


PRESTART_AT = 500  # entries in a tree a cold run starts its workers for before the walk


def _prestarted_pool(options: IndexOptions, digest: str) -> Any:
    """A cold run over a large tree starts its workers before its walk, so that their start-up
    (~0.1 s) overlaps the walk instead of following it; None otherwise."""
    entries = int(digest.split(":")[1])
    if options.jobs <= 1 or entries < PRESTART_AT:
        return None
    from indexer.parse.pool import WorkerPool

    pool = WorkerPool(options.jobs, options.max_file_size, options.parse_timeout,
                      options.recycle_files, options.rss_limit_mb)
    pool.prestart()
    return pool


def _repruned_digest(root: Any, pruned: list[str], before: str | None,
                     now_pruned: list[str]) -> str | None:
    """The digest with the folders this run's ignore rules pruned (a first run, or changed
    ignore files), when it is sure to describe what the run indexed: the old pruning saw
    all the new one sees, and its digest, taken again after this one, has not changed."""
    now = set(now_pruned)
    if before is None or not all(within(folder, now) for folder in pruned):
        return None
    digest = tree_digest(root, now_pruned)
    return digest if tree_digest(root, pruned) == before else None


def current(options: IndexOptions) -> dict[str, Any] | None:
    """The summary of a run with nothing to do, found without the write lock and without
    writing, when the tree is as the last complete run left it (its digest); None when a
    run would have work, or cannot tell. A scan that finds the lock taken asks this first:
    then it need not wait."""
    from indexer.errors import DatabaseError
    from indexer.store.connection import open_db
    from indexer.store.reader import (
        current_generation,
        file_count,
        last_options_hash,
        stored_languages,
    )

    clock = time.perf_counter()
    try:
        connection = open_db(options.db_path, readonly=True)
    except DatabaseError:
        return None
    try:
        last_hash, state = last_options_hash(connection)
        if not state or "digest" not in state:
            return None
        present = set(state["languages"]) if "languages" in state else \
            stored_languages(connection)
        if _options_hash(options, present) != last_hash:
            return None
        before = tree_digest(options.root, state.get("pruned", []))
        if before is None or before != state["digest"]:
            return None
        counts = IndexCounts()
        counts.seen = counts.unchanged = file_count(connection)
        report = WalkReport()
        report.links_skipped = state.get("links_skipped", 0)
        return _summary(options, current_generation(connection), counts, PoolStats(), clock,
                        report, tree_unchanged=True)
    finally:
        connection.close()


def _unchanged(connection: Any, options: IndexOptions, started_at: str, clock: float,
               counts: IndexCounts, state: dict[str, Any], options_hash: str) -> dict[str, Any]:
    """The run when the tree's digest is the last complete run's: nothing to do."""
    from indexer.store.reader import current_generation, file_count
    from indexer.store.runs import record_run

    report = WalkReport()
    report.links_skipped = state.get("links_skipped", 0)
    counts.seen = counts.unchanged = file_count(connection)
    summary = _summary(options, current_generation(connection), counts, PoolStats(), clock,
                       report, tree_unchanged=True)
    record_run(connection, started_at, options_hash, summary, state)
    return summary


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """A run allocates millions of small acyclic objects (tokens, tuples, rows): at the
    default thresholds the cyclic collector took ~2% of a cold index, finding nothing."""
    import gc

    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], 50_000), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _options_hash(options: IndexOptions, present: set[str]) -> str:
    """What decides whether an unchanged file's stored outcome still holds: the language map,
    the options that select and limit parsing, and each relevant grammar's parser version."""
    import json
    import zlib

    selected = present | set(options.only or ())
    versions: dict[str, str | None] = {}
    for language in sorted(selected):
        try:
            versions[language] = languages.parser_version(language)
        except languages.GrammarUnavailable:
            versions[language] = None
    shape = [sorted(languages.EXTENSIONS.items()), sorted(languages.FILENAMES.items()),
             sorted(options.only or ()), options.max_file_size, versions]
    text = json.dumps(shape).encode()  # zlib is loaded already; hashlib would cost 5 ms
    return f"{zlib.crc32(text):08x}{zlib.adler32(text):08x}{len(text):x}"


def _candidates(connection: Any, diff: change_detection.ChangeSet, options: IndexOptions,
                recheck: bool) -> list[_Candidate]:
    """Files that need work, sorted by path: new, stat-changed, and (only when the options
    hash changed) unchanged files whose stored outcome the new options would not give."""
    from indexer.store.reader import load_stored

    stored = load_stored(connection, [w.path for w in diff.stat_changed] +
                         (diff.unchanged if recheck else []))
    found = [_Candidate(w, None, False) for w in diff.added]
    found += [_Candidate(w, stored[w.path], False) for w in diff.stat_changed]
    if recheck:
        found += [_Candidate(WalkedFile(path, stored[path].stamp), stored[path], True)
                  for path in diff.unchanged if _is_stale(path, stored[path], options)]
    found.sort(key=lambda c: c.walked.path)
    return found


def _apply(connection: Any, options: IndexOptions, candidates: list[_Candidate],
           deleted: list[str], counts: IndexCounts, progress: Progress | None,
           pool: Any, early: Any = None) -> tuple[int, Any]:
    """Settle, parse and commit the candidates and deletions; (generation, pool stats)."""
    from indexer.store.reader import current_generation

    if not candidates and not deleted:
        return current_generation(connection), PoolStats()
    from indexer.store.writer import IndexWriter

    writer = IndexWriter(connection)
    if len(candidates) >= PRELOAD_ASTS_AT:
        writer.preload_asts()
    run = _Run(options, writer, counts, progress, len(candidates) + len(deleted))
    try:
        stats = _run_parsers(run, candidates, deleted, pool, early)
    finally:
        writer.close()
    return writer.generation, stats


def _is_stale(path: str, stored: Any, options: IndexOptions) -> bool:
    """Content unchanged, but this run would store something else for it."""
    language = languages.language_for_path(path)
    if language != stored.language:
        return True
    if language is None or not _selected(language, options):
        return False
    if stored.status == "excluded":
        return True
    if stored.status == "too_large":
        return stored.stamp.size <= options.max_file_size
    if stored.status in PARSED_STATUSES:
        try:
            return stored.parser_version != languages.parser_version(language)
        except languages.GrammarUnavailable:
            return False
    return False


def _selected(language: str, options: IndexOptions) -> bool:
    return options.only is None or language in options.only


def _run_parsers(run: _Run, candidates: list[_Candidate], deleted: list[str],
                 shared: Any = None, early: Any = None) -> Any:
    """Parse with ``shared`` (a daemon's pool, kept), ``early`` (started by this run before
    its walk, closed by it) or a parser made here for this run."""
    from indexer.parse.pool import make_parser

    options = run.options
    if shared is not None:
        pool = shared
        pool.stats = PoolStats()  # this run's figures, from a pool that outlives it
    elif early is not None:
        pool = early
    else:
        jobs, marker = _small_run_in_process(options, len(candidates))
        pool = make_parser(jobs, options.max_file_size, options.parse_timeout,
                           options.recycle_files, options.rss_limit_mb, marker)
    if getattr(pool, "takes_content", False):
        run.keep_content = options.max_file_size
    else:  # workers parse: commit on a thread, so they never wait for one
        from indexer.store.connection import open_db

        run.writer.commit_in_background(open_db(options.db_path, readonly=True))
    try:
        for result in pool.run(_plan(run, candidates)):
            _finish(run, result)
            if stopping.requested():  # a signal: stop here, between two files
                raise KeyboardInterrupt
        for path in deleted:
            _delete(run, path)
        run.writer.commit()
    except KeyboardInterrupt:
        run.writer.commit()  # everything already parsed is kept
        raise Interrupted(f"interrupted: {run.done} of {run.total} files done and committed",
                          "run `codelens index` again to finish the rest") from None
    finally:
        if shared is None and early is None:
            pool.close()
    return pool.stats


SMALL_RUN = 8  # files: parsing them here costs less than starting a worker (~150 ms)


def _small_run_in_process(options: IndexOptions, files: int) -> tuple[int, Any]:
    """(jobs, marker) for this run. A few files are parsed in-process; a marker names the file
    being parsed, so if this process dies on it, the next run sees the marker and uses workers
    again: the file that kills a parser is then isolated and recorded as failed."""
    from pathlib import Path

    marker = Path(str(options.db_path) + ".parsing")
    if marker.exists():
        marker.unlink()  # the last in-process run died: isolate this one
        return max(options.jobs, 2), None
    if options.jobs > 1 and files <= SMALL_RUN:
        return 1, marker
    return options.jobs, None if options.jobs > 1 else marker


def _plan(run: _Run, candidates: list[_Candidate]) -> Iterator[ParseTask]:
    """Hash each candidate; settle what needs no parser here, yield the rest as tasks."""
    for task_id, candidate in enumerate(candidates):
        task = _settle(run, task_id, candidate)
        if task is not None:
            yield task


def _settle(run: _Run, task_id: int, candidate: _Candidate) -> ParseTask | None:
    from indexer.store.writer import FileRow

    options, walked, previous = run.options, candidate.walked, candidate.previous
    abspath = os.path.join(options.root, walked.path)
    try:
        sha, binary, content = _fingerprint(abspath, run.keep_content)
    except FileNotFoundError:
        _vanished(run, walked.path, previous)
        return None
    except OSError as exc:
        _record(run, candidate, FileRow(walked.path, languages.language_for_path(walked.path),
                                        walked.stamp, None, "failed",
                                        f"cannot read: {exc.strerror or exc}"))
        run.counts.failed += 1
        return None
    if previous is not None and previous.sha256 == sha and not candidate.stale:
        run.writer.touch(walked.path, walked.stamp)  # touched, not modified
        run.counts.unchanged += 1
        run.resolved()
        return None
    language = languages.language_for_path(walked.path)
    reason = _skip_reason(language, walked.stamp, binary, options)
    if reason is not None:
        _record(run, candidate, FileRow(walked.path, language, walked.stamp, sha, *reason))
        run.counts.skipped += 1
        return None
    assert language is not None
    try:
        version = languages.parser_version(language)
    except languages.GrammarUnavailable as exc:
        _record(run, candidate, FileRow(walked.path, language, walked.stamp, sha, "no_grammar",
                                        str(exc)))
        run.counts.skipped += 1
        return None
    cached = run.writer.cached_ast(sha, version) if options.use_cache else None
    if cached is not None:
        ast_id, parsed, parse_error = cached
        status = "syntax_error" if parse_error else "ok"
        _record(run, candidate, FileRow(walked.path, language, walked.stamp, sha, status,
                                        parse_error), ast_id=ast_id, parsed=parsed)
        run.counts.hits += 1
        return None
    leader = run.leaders.get((sha, version))
    if leader is not None:  # identical content already being parsed: take its result
        run.followers[leader].append(candidate)
        return None
    run.leaders[(sha, version)] = task_id
    run.followers[task_id] = []
    run.in_flight[task_id] = (candidate, language, sha)
    return ParseTask(task_id, abspath, language, content, sha)


def _fingerprint(abspath: str, keep_up_to: int = 0) -> tuple[str, bool, bytes | None]:
    """SHA-256 of the content, whether it looks binary, and the content itself if it has at
    most ``keep_up_to`` bytes (else None); raises OSError."""
    import hashlib

    with open(abspath, "rb") as handle:
        head = handle.read(max(keep_up_to + 1, BINARY_SNIFF_BYTES))
        digest = hashlib.sha256(head)
        kept = 0 < len(head) <= keep_up_to  # then head is the whole file
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest(), b"\0" in head[:BINARY_SNIFF_BYTES], head if kept else None


def _skip_reason(language: str | None, stamp: FileStamp, binary: bool,
                 options: IndexOptions) -> tuple[str, str | None] | None:
    if binary:
        return "binary", "NUL byte in the first 8 KiB"
    if language is None:
        return "no_grammar", None
    if stamp.size > options.max_file_size:
        return "too_large", f"{stamp.size} bytes, over --max-file-size {options.max_file_size}"
    if not _selected(language, options):
        return "excluded", "language not selected by --only"
    return None


def _finish(run: _Run, result: ParseResult) -> None:
    candidate, language, sha = run.in_flight.pop(result.task_id)
    del run.leaders[(sha, languages.parser_version(language))]
    _finish_one(run, candidate, language, sha, result)
    for follower in run.followers.pop(result.task_id):
        if result.status in PARSED_STATUSES:
            run.counts.hits += 1
            _record(run, follower, _row(follower, language, sha, result), parsed=result)
        elif result.status == "failed":  # same content, same parser: same failure
            _finish_one(run, follower, language, sha, result)
        else:  # the leader's own file vanished or changed: parse the follower's file itself
            _finish_one(run, follower, language, sha, _parse_inline(run, follower, language))


def _parse_inline(run: _Run, candidate: _Candidate, language: str) -> ParseResult:
    from indexer.parse import library

    task = ParseTask(-1, os.path.join(run.options.root, candidate.walked.path), language)
    return library.parse_file(task, library.Parsers(), run.options.max_file_size,
                             run.options.parse_timeout)


def _row(candidate: _Candidate, language: str, sha: str, result: ParseResult) -> Any:
    from indexer.store.writer import FileRow

    return FileRow(candidate.walked.path, language, candidate.walked.stamp, result.sha256 or sha,
                   result.status, result.error or None)


def _finish_one(run: _Run, candidate: _Candidate, language: str, sha: str,
                result: ParseResult) -> None:
    walked = candidate.walked
    if result.status == "vanished":
        _vanished(run, walked.path, candidate.previous)
        return
    row = _row(candidate, language, sha, result)
    if result.status in PARSED_STATUSES:
        run.counts.parsed += 1
        run.counts.misses += 1
        _record(run, candidate, row, parsed=result)
        return
    if result.status == "failed":
        run.counts.failed += 1
    else:
        run.counts.skipped += 1  # became binary or too large since it was hashed
    _record(run, candidate, row)


def _record(run: _Run, candidate: _Candidate, row: Any, ast_id: int | None = None,
            parsed: ParseResult | None = None) -> None:
    if candidate.previous is None:
        run.counts.added += 1
    else:
        run.counts.modified += 1
    run.writer.put(row, ast_id, parsed)
    run.resolved()


def _vanished(run: _Run, path: str, previous: Any) -> None:
    if previous is not None:
        _delete(run, path)
    else:
        run.counts.seen -= 1
        run.resolved()


def _delete(run: _Run, path: str) -> None:
    run.writer.delete(path)
    run.counts.deleted += 1
    run.resolved()


def _peak_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _percentiles(samples: list[float]) -> dict[str, float] | None:
    if not samples:
        return None
    ordered = sorted(samples)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "files": len(ordered)}


def _summary(options: IndexOptions, generation: int, counts: IndexCounts, stats: Any,
             clock: float, report: WalkReport, tree_unchanged: bool = False) -> dict[str, Any]:
    return {
        "root": str(options.root),
        "db": str(options.db_path),
        "generation": generation,
        "files": {key: getattr(counts, key) for key in
                  ("seen", "unchanged", "added", "modified", "deleted", "parsed", "failed",
                   "skipped")},
        "cache": {"hits": counts.hits, "misses": counts.misses},
        "pool": {"workers": stats.workers, "respawns": stats.respawns,
                 "timeouts": stats.timeouts, "recycles": stats.recycles},
        "walk": {"problems": [{"path": p, "error": e} for p, e in report.problems],
                 "links_skipped": report.links_skipped,
                 # answered by the tree's digest alone: no walk, nothing could have changed
                 "tree_unchanged": tree_unchanged},
        "memory": {"parent_peak_mb": round(_peak_rss_kb() / 1024, 1),
                   "worker_peak_mb": round(stats.worker_peak_kb / 1024, 1)},
        "pool_overhead_ms": _percentiles(stats.overhead_ms),
        "pool_per_file_ms": _percentiles(stats.service_ms),
        "elapsed_ms": round((time.perf_counter() - clock) * 1000, 1),
    }
