"""Command line: the only module that prints or exits. ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer import __version__
from indexer.errors import CodelensError, LockedError, UsageError
from indexer.settings import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MAX_FILE_SIZE,
    DEFAULT_PARSE_TIMEOUT,
    DEFAULT_RECYCLE_FILES,
    DEFAULT_RSS_LIMIT_MB,
    IndexOptions,
    cached_db_path,
    default_db_path,
    resolve_jobs,
)


class _Unused:
    """Stands in for the parser of a command this run does not use: building all of them
    cost a no-op `codelens index` ~8 ms of its ~100."""

    def add_argument(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def add_mutually_exclusive_group(self, **_kwargs: Any) -> _Unused:
        return self


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized as shutil.get_terminal_size would size it, without
    importing shutil (with bz2 and lzma: ~3 ms of every run, help or not)."""

    def __init__(self, prog: str) -> None:
        try:
            columns = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size(
                sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
        super().__init__(prog, width=columns - 2)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or (``command`` given) just that command's part of it."""
    parser = argparse.ArgumentParser(
        prog="codelens", formatter_class=_Formatter,
        description="A live SQLite index of a source tree: hashes, tree-sitter ASTs, tokens, "
                    "symbols. Other tools read it with plain SQL.")
    parser.add_argument("--version", action="version", version=f"codelens {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="on an unexpected error, print the Python traceback (allowed "
                             "anywhere on the line; or set CODELENS_DEBUG=1)")
    real = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    class _Commands:
        @staticmethod
        def add_parser(name: str, **kwargs: Any) -> Any:
            if command not in (None, name):
                return _Unused()
            return real.add_parser(name, formatter_class=_Formatter, **kwargs)

    commands = _Commands()

    index = commands.add_parser("index", help="bring the index of ROOT up to date")
    index.add_argument("root", nargs="?", default=".", metavar="ROOT",
                       help="the tree to index (default: .)")
    _db_option(index)
    index.add_argument("--jobs", type=int, default=None, metavar="N",
                       help="parse workers: 0 = all cores (default, or CODELENS_JOBS), "
                            "1 = in-process and deterministic")
    index.add_argument("--only", metavar="LANGS",
                       help="parse only these languages, comma-separated (e.g. python,go)")
    index.add_argument("--no-cache", action="store_true",
                       help="re-parse changed files even when their AST is already stored")
    index.add_argument("--max-file-size", type=int, default=DEFAULT_MAX_FILE_SIZE, metavar="BYTES",
                       help="files larger than this are recorded but not parsed (default 1 MiB)")
    index.add_argument("--parse-timeout", type=float, default=DEFAULT_PARSE_TIMEOUT,
                       metavar="SECONDS", help="per-file hard parse timeout (default 10)")
    index.add_argument("--recycle-after", type=int, default=DEFAULT_RECYCLE_FILES, metavar="N",
                       help="replace a worker after N files (default 5000)")
    index.add_argument("--worker-rss-mb", type=int, default=DEFAULT_RSS_LIMIT_MB, metavar="MB",
                       help="replace a worker whose memory exceeds this (default 1024)")
    _lock_timeout_option(index)
    index.add_argument("--json", action="store_true", help="print the run summary as JSON")
    index.add_argument("--quiet", action="store_true", help="print nothing on success")

    query = commands.add_parser("query", help="run read-only SQL on the index")
    query.add_argument("sql", metavar="SQL")
    query.add_argument("--root", default=".", metavar="DIR",
                       help="project root whose index to read (default: .)")
    _db_option(query)
    query.add_argument("--json", action="store_true", help="print a JSON array of row objects")
    query.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                       help="stop the query after this long (exit 2); Ctrl-C stops it at once")

    status = commands.add_parser("status", help="what the index holds and how the last run went")
    status.add_argument("root", nargs="?", default=".", metavar="ROOT")
    _db_option(status)
    status.add_argument("--json", action="store_true")

    cache = commands.add_parser("cache", help="AST cache: stats | clear")
    cache.add_argument("action", choices=["stats", "clear"])
    cache.add_argument("root", nargs="?", default=".", metavar="ROOT")
    _db_option(cache)
    cache.add_argument("--older-than", type=float, default=30.0, metavar="DAYS",
                       help="clear: drop ASTs no file uses and unused for DAYS (default 30)")
    cache.add_argument("--all", action="store_true",
                       help="clear: drop every AST; the next index re-parses everything")
    cache.add_argument("--json", action="store_true")

    scan = commands.add_parser("scan", help="match semgrep-format rules against the index")
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                      help="files or folders to report findings for (default: .)")
    scan.add_argument("--config", "-c", "-f", action="append", default=[], metavar="RULES",
                      help="a rule file or a folder of them (repeatable)")
    scan.add_argument("-e", "--pattern", metavar="PATTERN",
                      help="search for this pattern instead of (or besides) rule files; "
                           "needs --lang")
    scan.add_argument("-l", "--lang", metavar="LANG", help="the language of --pattern")
    scan.add_argument("--root", metavar="DIR", help="the index root (default: the nearest "
                      "folder above the first PATH holding .codelens/ or .git/)")
    _db_option(scan)
    scan.add_argument("--jobs", type=int, default=None, metavar="N",
                      help="processes for the index update and for matching: 0 = all "
                           "cores (default, or CODELENS_JOBS), 1 = all in this process")
    scan.add_argument("--only", metavar="LANGS", help="index only these languages")
    _lock_timeout_option(scan)
    scan.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                      help="give up one rule on one file after this long, with an error "
                           "(default 5, as semgrep; 0: no limit)")
    scan.add_argument("--include", action="append", default=[], metavar="GLOB",
                      help="scan only the files matching this glob (.gitignore syntax: a "
                           "name at any depth, /anchored, a folder covers what is below it; "
                           "repeatable)")
    scan.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                      help="do not scan the files matching this glob (repeatable)")
    scan.add_argument("--exclude-rule", action="append", default=[], metavar="ID",
                      help="do not run this rule (repeatable)")
    scan.add_argument("--severity", action="append", default=[], metavar="LEVEL",
                      choices=["INFO", "WARNING", "ERROR", "info", "warning", "error"],
                      help="run only the rules of this severity (repeatable)")
    scan.add_argument("--disable-nosem", action="store_true",
                      help="report findings that `nosemgrep` comments suppress")
    scan.add_argument("--timeout-threshold", type=int, default=3, metavar="N",
                      help="drop a rule for the rest of the run once it timed out on N files "
                           "(default 3, as semgrep; 0: never)")
    scan.add_argument("--max-memory", type=int, default=0, metavar="MB",
                      help="give up one rule on one file, with an error, when the process "
                           "matching it holds more than MB MiB (default 0: no limit)")
    scan.add_argument("--no-prefilter", action="store_true",
                      help="match every file, not only those holding a rule's tokens")
    scan.add_argument("--no-cache", action="store_true",
                      help="match again even where a result is cached")
    scan.add_argument("--baseline-commit", metavar="REF",
                      help="report only the findings that are new since the git commit REF")
    output = scan.add_mutually_exclusive_group()
    output.add_argument("--text", action="store_true", help="text for people (the default)")
    output.add_argument("--json", action="store_true", help="semgrep-compatible JSON")
    output.add_argument("--sarif", action="store_true", help="SARIF 2.1.0")
    output.add_argument("--junit-xml", action="store_true", help="JUnit XML, as semgrep's")
    output.add_argument("--gitlab-sast", action="store_true",
                        help="GitLab SAST security report, as semgrep's")
    scan.add_argument("--output", metavar="FILE", help="write the report to FILE")
    scan.add_argument("--autofix", "-a", action="store_true",
                      help="apply the rules' fixes to the files, then index them again")
    scan.add_argument("--dryrun", action="store_true",
                      help="show the lines the fixes would leave (extra.fixed_lines); "
                           "write nothing")
    scan.add_argument("--error", action="store_true", help="exit 1 when there are findings")
    scan.add_argument("--stats", action="store_true",
                      help="print prefilter, cache and timing figures to stderr")

    test = commands.add_parser("test", help="run rules against their annotated examples")
    test.add_argument("rules_dir", metavar="RULES_DIR")

    watch = commands.add_parser("watch", help="index, then keep the index current until Ctrl-C")
    watch.add_argument("root", nargs="?", default=".", metavar="ROOT")
    _lock_timeout_option(watch)
    watch.add_argument("--settle", type=float, default=0.05, metavar="SECONDS",
                       help="quiet time that closes a batch of file events (default 0.05)")

    daemon = commands.add_parser("daemon", help="the shared per-project daemon: "
                                 "start | stop | status | list")
    daemon.add_argument("action", choices=["start", "stop", "status", "list"])
    daemon.add_argument("root", nargs="?", default=".", metavar="ROOT")
    daemon.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="start: exit after this long without a request (default 300)")
    daemon.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="serve the index to AI agents")
    serve.add_argument("--mcp", action="store_true", required=True,
                       help="speak MCP over stdio (the only server for now)")
    serve.add_argument("--root", default=".", metavar="DIR", help="project root (default: .)")
    return parser


def _db_option(parser: Any) -> None:
    parser.add_argument("--db", metavar="PATH", help="database path (default: "
                        "ROOT/.codelens/index.db, or CODELENS_DB)")


def _lock_timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lock-timeout", type=float, default=DEFAULT_LOCK_TIMEOUT,
                        metavar="SECONDS",
                        help="while another run writes the index, wait this long for it "
                             f"(default {DEFAULT_LOCK_TIMEOUT:g}), then exit 3")


def _waiting(line: str) -> None:
    print(f"codelens: {line}", file=sys.stderr, flush=True)


def _db_path(root: Path, db: str | None) -> Path:
    return Path(db).resolve() if db else default_db_path(root).resolve()


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns the process exit code (see indexer.errors for the table)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("CODELENS_DEBUG", "") not in ("", "0")
    options = arguments[:arguments.index("--")] if "--" in arguments else arguments
    if "--debug" in options:
        arguments.remove("--debug")
        debug = True
    args = build_parser(arguments[0] if arguments and arguments[0] in COMMANDS else None
                        ).parse_args(arguments)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return COMMANDS[args.command](args)
    except CodelensError as exc:
        print(f"codelens: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("codelens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`codelens query ... | head`): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # (what is still buffered goes nowhere)
        return 0
    except Exception as exc:  # noqa: BLE001 - never a traceback in front of a user
        if debug:
            raise
        print(f"codelens: {unexpected(exc, _db_of(args))}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


def _db_of(args: argparse.Namespace) -> str | None:
    """The database a command works on, as far as its arguments tell."""
    try:
        if getattr(args, "db", None):
            return str(Path(args.db).resolve())
        root = getattr(args, "root", None)
        if root is None and getattr(args, "paths", None):
            root = find_root([Path(p).resolve() for p in args.paths])
        return str(default_db_path(Path(root).resolve())) if root else None
    except (OSError, ValueError, TypeError):
        return None


UNEXPECTED = "run again with --debug for the traceback, and report it"


def unexpected(exc: Exception, db: str | None = None) -> str:
    """One line (and a hint) for an error no command turned into a CodelensError."""
    import errno

    import apsw

    what = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, apsw.CorruptError | apsw.NotADBError):
        what = f"the index database {db or ''} is damaged ({exc})".replace("  ", " ")
        hint = (f"remove {db or 'it'} (and its -wal and -shm files) and run `codelens index` "
                "again: the index is rebuilt from the source files")
    elif isinstance(exc, apsw.FullError | apsw.IOError) or getattr(exc, "errno", None) in (
            errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        what = (f"cannot write {getattr(exc, 'filename', None) or db or 'the index database'}: "
                f"the disk is full, or a size limit or the device refused the write ({what})")
        hint = "free some space (or check the device) and run again: what was committed is kept"
    elif isinstance(exc, apsw.ReadOnlyError | PermissionError):
        what = f"cannot write {getattr(exc, 'filename', None) or db or 'the index'} ({what})"
        hint = "check the permissions of the index database and its folder, or pass --db"
    elif isinstance(exc, RecursionError):
        hint = "the input is nested too deeply to process"
    else:
        hint = UNEXPECTED
    return str(CodelensError(what if hint != UNEXPECTED else f"unexpected error: {what}",
                             hint))


def _raise_interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_index(args: argparse.Namespace) -> int:
    from indexer import engine, languages

    root = Path(args.root).resolve()
    if not root.is_dir():
        raise UsageError(f"{args.root} is not a directory", "pass the root of a source tree")
    only = None
    if args.only:
        only = frozenset(x.strip() for x in args.only.split(",") if x.strip())
        unknown = sorted(only - set(languages.known_languages()))
        if unknown:
            raise UsageError(f"unknown language(s) for --only: {', '.join(unknown)}",
                             "known: " + ", ".join(languages.known_languages()))
    if args.jobs is not None and args.jobs < 0:
        raise UsageError("--jobs must be 0 (all cores) or more")
    options = IndexOptions(root=root, db_path=_db_path(root, args.db),
                           jobs=resolve_jobs(args.jobs), only=only,
                           max_file_size=args.max_file_size, parse_timeout=args.parse_timeout,
                           recycle_files=args.recycle_after, rss_limit_mb=args.worker_rss_mb,
                           use_cache=not args.no_cache, lock_timeout=args.lock_timeout)
    default_shape = not (args.only or args.no_cache or args.jobs is not None) and (
        args.max_file_size, args.parse_timeout) == (DEFAULT_MAX_FILE_SIZE, DEFAULT_PARSE_TIMEOUT)
    if default_shape and _daemon_for(root, args.db):
        from indexer.service import client

        summary = client.call(root, "index")
    else:
        from indexer import stopping

        show_bar = not (args.json or args.quiet) and sys.stderr.isatty()
        with stopping.graceful(), _progress_bar(show_bar) as progress:
            summary = engine.index(options, progress, waiting=_waiting)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        _print_index_summary(summary)
    return 0


class _progress_bar:
    """A rich progress bar with files/s on a TTY; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class FilesPerSecond(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:>6.0f} files/s")

        self._bar = Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(),
                             FilesPerSecond(), TimeRemainingColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("index", total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_index_summary(summary: dict[str, Any]) -> None:
    files, cache, pool = summary["files"], summary["cache"], summary["pool"]
    print(f"indexed {summary['root']} -> {summary['db']}")
    print(f"  {files['seen']} files seen: {files['added']} added, {files['modified']} modified, "
          f"{files['deleted']} deleted, {files['unchanged']} unchanged")
    if summary["walk"].get("tree_unchanged"):
        print("  nothing changed since the last complete run (its tree digest matches)")
    else:
        print(f"  {files['parsed']} parsed, {cache['hits']} from the AST cache, "
              f"{files['failed']} failed, {files['skipped']} skipped "
              "(binary, too large, no grammar)")
    if pool["workers"]:
        print(f"  pool: {pool['workers']} workers started, {pool['respawns']} respawned, "
              f"{pool['timeouts']} timeouts, {pool['recycles']} recycled")
    for problem in summary["walk"]["problems"]:
        print(f"  warning: {problem['path']}: {problem['error']}", file=sys.stderr)
    print(f"  generation {summary['generation']}, {summary['elapsed_ms'] / 1000:.2f} s")


def cmd_query(args: argparse.Namespace) -> int:
    """Rows are printed as SQLite produces them (read in-process: a read needs no daemon,
    and so Ctrl-C and --timeout stop it at once, and no result is built whole)."""
    from indexer.queries import query_stream

    root = Path(args.root).resolve()
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    with query_stream(_db_path(root, args.db), args.sql, args.timeout) as (columns, rows):
        lines = json_lines(columns, rows) if args.json else table_lines(columns, rows)
        write = sys.stdout.write
        for line in lines:
            write(line)
            write("\n")
    return 0


def json_lines(columns: list[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    """A JSON array of row objects (as ``json.dumps(..., indent=2)`` writes it), a row at a
    time."""
    previous = None
    for row in rows:
        if previous is None:
            yield "["
        else:
            yield previous + ","
        previous = "  " + json.dumps(dict(zip(columns, map(_json_value, row), strict=True)),
                                     indent=2).replace("\n", "\n  ")
    yield "[]" if previous is None else previous + "\n]"


def _json_value(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<blob {len(value)} bytes>"
    return str(value)


TABLE_SAMPLE = 1000  # rows that set the columns' widths; later ones are printed as they come


def table_lines(columns: list[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[str]:
    """Columns aligned under their headers, numbers right-aligned; the widths are those of
    the first rows, so that a result of millions of rows streams."""
    if not columns:
        yield "(no result set)"
        return
    sample = list(itertools.islice(rows, TABLE_SAMPLE))
    cells = [[_cell(v) for v in row] for row in sample]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [bool(sample) and all(isinstance(r[i], (int, float))
                                    for r in sample if r[i] is not None)
               for i in range(len(columns))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    yield line(columns)
    yield line(["-" * w for w in widths])
    count = 0
    for row in itertools.chain(cells, ([_cell(v) for v in r] for r in rows)):
        count += 1
        yield line(row)
    yield f"({count} row{'s' if count != 1 else ''})"


def cmd_status(args: argparse.Namespace) -> int:
    from indexer.queries import status

    root = Path(args.root).resolve()
    if _daemon_for(root, args.db):
        from indexer.service import client

        facts = client.call(root, "status")
    else:
        facts = status(_db_path(root, args.db))
    if not args.db and Path(facts["db"]) == cached_db_path(root):
        facts["db_note"] = f"{root} cannot be written: its index is kept in the user's cache"
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    print(f"index {facts['db']} ({facts['db_bytes'] / 1e6:.1f} MB), "
          f"generation {facts['generation']}")
    if "db_note" in facts:
        print(f"  ({facts['db_note']})")
    print(f"  {facts['files']} files, {facts['symbols']} symbols, "
          f"{facts['tokens']} distinct tokens")
    print("  by language: " + ", ".join(f"{k} {v}" for k, v in facts["by_language"].items()))
    print("  by status:   " + ", ".join(f"{k} {v}" for k, v in facts["by_status"].items()))
    print(f"  native walker: {facts['native_walker']}")
    for failure in facts["failures"]:
        print(f"  failed: {failure['path']}: {failure['error']}")
    run = facts["last_run"]
    if run and run["summary"]:
        files = run["summary"]["files"]
        print(f"  last run: {run['finished_at']}, {run['summary']['elapsed_ms'] / 1000:.2f} s, "
              f"{files['added']} added, {files['modified']} modified, {files['deleted']} deleted")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from indexer.queries import cache_clear, cache_stats

    db_path = _db_path(Path(args.root).resolve(), args.db)
    if args.action == "clear":
        removed = cache_clear(db_path, args.older_than, args.all)
        result: dict[str, Any] = {"removed": removed}
        text = f"removed {removed} AST entr{'y' if removed == 1 else 'ies'}"
    else:
        result = cache_stats(db_path)
        ratio = result["last_run"]["hit_ratio"]
        text = (f"{result['entries']} ASTs, {result['bytes'] / 1e6:.1f} MB, "
                f"{result['unreferenced']} unused by any file; last run hit ratio "
                f"{'n/a' if ratio is None else f'{ratio:.1%}'}")
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def find_root(paths: list[Path]) -> Path:
    """The nearest folder above the first path holding .codelens/ or .git/, else the
    common parent of the paths."""
    first = paths[0] if paths[0].is_dir() else paths[0].parent
    for folder in (first, *first.parents):
        if (folder / ".codelens").is_dir() or (folder / ".git").exists():
            return folder
    return Path(os.path.commonpath([str(p if p.is_dir() else p.parent) for p in paths]))


def cmd_scan(args: argparse.Namespace) -> int:
    from indexer import output
    from indexer.scan import ScanOptions, scan
    from indexer.typed_paths import Target, as_typed

    paths = [Path(p).resolve() for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    root = Path(args.root).resolve() if args.root else find_root(paths)
    outside = [str(p) for p in paths if p != root and root not in p.parents]
    if outside:
        raise UsageError(f"{outside[0]} is outside the index root {root}", "pass --root")
    db_path = _db_path(root, args.db)
    scope = ["" if p == root else str(p.relative_to(root)) for p in paths]
    configs = [str(Path(c).resolve()) for c in args.config]
    if args.pattern is not None:
        configs.append(str(_pattern_rule(args.pattern, args.lang, db_path)))
    elif args.lang is not None:
        raise UsageError("--lang goes with --pattern (-e)")
    if not configs:
        raise UsageError("nothing to search for", "pass --config RULES, or -e PATTERN -l LANG")
    if args.max_memory < 0:
        raise UsageError("--max-memory must be 0 (no limit) or more MiB")
    fmt = next((name for name in ("json", "sarif", "junit-xml", "gitlab-sast")
                if getattr(args, name.replace("-", "_"))), "text")
    fixing = args.autofix or args.dryrun  # fixes read and write files here: in-process
    if not (args.only or args.jobs is not None or args.baseline_commit or fixing) \
            and _daemon_for(root, args.db):
        from indexer.service import client

        reply = client.call(root, "scan", {
            "configs": configs, "paths": scope, "typed": args.paths, "output": fmt,
            "use_prefilter": not args.no_prefilter, "use_cache": not args.no_cache,
            "timeout": args.timeout, "timeout_threshold": args.timeout_threshold,
            "nosem": not args.disable_nosem, "exclude_rules": args.exclude_rule,
            "severities": args.severity, "max_memory": args.max_memory,
            "include": args.include, "exclude": args.exclude,
            "output_file": str(Path(args.output).resolve()) if args.output else None})
        text, count, stats = reply["output"], reply["findings"], reply["stats"]
    else:

        index_options = _index_options(args, root, db_path)
        summary = _index_stage(index_options)
        options = ScanOptions(root, db_path, [Path(c) for c in configs], scope,
                              use_prefilter=not args.no_prefilter,
                              use_cache=not args.no_cache, jobs=resolve_jobs(args.jobs),
                              timeout=args.timeout, timeout_threshold=args.timeout_threshold,
                              nosem=not args.disable_nosem,
                              exclude_rules=tuple(args.exclude_rule),
                              severities=tuple(args.severity), max_memory=args.max_memory,
                              include=tuple(args.include), exclude=tuple(args.exclude))
        if args.baseline_commit:  # (in this process, never through a daemon)
            from indexer.baseline import scan_since

            report = scan_since(args.baseline_commit, options)
        else:
            report = scan(options)
        report.stats["index"] = summary["files"]
        if fixing:
            report = _autofix(args, report, index_options, summary["generation"])
        count, stats = report.total, report.stats
        report = as_typed(report, [Target(*t) for t in zip(scope, args.paths, strict=True)])
        if args.output:
            output.write_file(report, fmt, Path(args.output))
        else:
            sys.stdout.flush()
            output.write(report, fmt, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        text = ""
    if text:  # a daemon's reply, when it has not written the file itself
        print(text)
    if args.stats:
        print(json.dumps(stats, indent=2), file=sys.stderr)
    return 1 if args.error and count else 0


def _autofix(args: argparse.Namespace, report: Any, options: IndexOptions,
             generation: int) -> Any:
    """The report with its fixes shown (--dryrun) or applied (--autofix)."""
    from indexer import autofix

    if args.dryrun:
        return autofix.preview(report, options.root, options.db_path, generation)
    report = autofix.apply(report, options, generation)
    done = report.stats["autofix"]
    print(f"codelens: autofix: {done['fixes_applied']} fix(es) applied in "
          f"{done['files_modified']} file(s)" + (
              f", {done['fixes_skipped']} skipped (see the report's errors)"
              if done["fixes_skipped"] else ""), file=sys.stderr)
    return report


def _pattern_rule(pattern: str, language: str | None, db_path: Path) -> Path:
    """``-e PATTERN -l LANG`` as a rule file beside the index, named by its content (a
    second search for the same pattern finds its kept report and cache). Its id is ``-``,
    as semgrep names the rule of ``-e``."""
    import hashlib

    import yaml

    from indexer.match.rules import LANGUAGE_ALIASES

    if not language:
        raise UsageError("-e/--pattern needs -l/--lang", "for example: -e 'eval(...)' -l python")
    language = LANGUAGE_ALIASES.get(language.lower(), language.lower())
    text = yaml.safe_dump({"rules": [{"id": "-", "languages": [language], "severity": "ERROR",
                                      "message": "", "pattern": pattern}]}, sort_keys=False)
    folder = db_path.parent / "patterns"
    path = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.yaml"
    if not path.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            raise UsageError(f"cannot write the pattern's rule to {path} ({exc.strerror})",
                             "pass --db somewhere writable") from exc
    return path


def _index_options(args: argparse.Namespace, root: Path, db_path: Path) -> IndexOptions:
    only = frozenset(x.strip() for x in args.only.split(",")) if args.only else None
    return IndexOptions(root=root, db_path=db_path, jobs=resolve_jobs(args.jobs), only=only,
                        lock_timeout=args.lock_timeout)


def _index_stage(options: IndexOptions) -> dict[str, Any]:
    """A scan's index stage: a run as usual; while another run writes, a tree the index
    already describes needs nothing (read without the lock), else the scan waits its turn."""
    from indexer import engine

    try:
        return engine.index(options._replace(lock_timeout=0))
    except LockedError:
        summary = engine.current(options)
        return summary if summary is not None else engine.index(options, waiting=_waiting)


def cmd_test(args: argparse.Namespace) -> int:
    from indexer.ruletest import run_rule_tests

    folder = Path(args.rules_dir)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of rules")
    results = run_rule_tests(folder)
    for result in results:
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.rule_file}")
        for rule_id, example, line in result.missing:
            print(f"    missed: {rule_id} at {example}:{line}")
        for rule_id, example, line in result.unexpected:
            print(f"    unexpected: {rule_id} at {example}:{line}")
        for rule_id, example, line in result.todo:
            print(f"    todo: {rule_id} at {example}:{line}")
        for error in result.errors:
            print(f"    error: {error}")
    failed = sum(not r.passed for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


def cmd_watch(args: argparse.Namespace) -> int:
    from indexer.service.watcher import watch_forever

    root = Path(args.root).resolve()
    if not root.is_dir():
        raise UsageError(f"{args.root} is not a directory")
    return watch_forever(IndexOptions(root=root, db_path=_db_path(root, None),
                                      jobs=resolve_jobs(None), lock_timeout=args.lock_timeout),
                         args.settle, waiting=_waiting)


def cmd_daemon(args: argparse.Namespace) -> int:
    from indexer.service import client

    if args.action == "list":
        entries = client.all_running()
        print(json.dumps(entries, indent=2) if args.json else "\n".join(
            f"{e['pid']:>7}  {e['root']}  {e['socket']}" for e in entries) or "no daemons")
        return 0
    root = Path(args.root).resolve()
    if args.action == "start":
        entry = client.start(root, idle_timeout=args.idle_timeout)
        print(json.dumps(entry) if args.json else f"daemon {entry['pid']} serves {root}")
    elif args.action == "stop":
        stopped = client.stop(root)
        print(json.dumps({"stopped": stopped}) if args.json else
              ("stopped" if stopped else f"no daemon was running for {root}"))
    else:
        info = client.call(root, "ping") if client.running(root) else None
        print(json.dumps(info) if args.json else (
            f"daemon {info['pid']} serves {root}: {info['requests']} requests, up "
            f"{info['uptime']:.0f} s" if info else f"no daemon is running for {root}"))
        return 0 if info else 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from indexer.service.mcp import serve

    return serve(Path(args.root))


def _daemon_for(root: Path, db: str | None) -> bool:
    """Whether to ask the root's running daemon instead of working in-process."""
    if os.environ.get("CODELENS_NO_DAEMON") == "1" or db or os.environ.get("CODELENS_DB"):
        return False
    from indexer.service.protocol import registry_file

    if not registry_file(root).exists():  # the common case: no daemon, decided without a socket
        return False
    from indexer.service import client

    return client.running(root) is not None


COMMANDS = {"index": cmd_index, "query": cmd_query, "status": cmd_status, "cache": cmd_cache,
            "scan": cmd_scan, "test": cmd_test, "watch": cmd_watch, "daemon": cmd_daemon,
            "serve": cmd_serve}


def entry_point() -> None:
    code = main()
    # Every command has closed its databases, pools and files by now: skip the interpreter's
    # teardown of every module (~6 ms of a no-op index's ~85 ms).
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`codelens query ... | head`)
        pass
    os._exit(code)


if __name__ == "__main__":
    entry_point()
