"""codelens benchmark: the real corpus, the anchors and the targets, measured in one run.

Downloads the pinned corpus (tools/corpus.py), then measures side by side:
raw tree-sitter parse + cursor walk of the files codelens parses (the baseline), cold index
with --jobs 1 and --jobs 2, no-op re-index, one-file edits, DB size over parsed source bytes,
peak RSS of parent and workers, per-file pool overhead, the persistent pool against a fresh
interpreter per file on 200 files, and `git status` plus a bare Python scandir+stat walk as the
anchors for "nothing changed"; scans of 115 plain rules against semgrep and ast-grep, and of the
conformance suites' own rules against semgrep (tools/bench_semantic.py), with where a scan's
time goes. Prints a table and writes tools/.bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent
sys.path.insert(0, str(REPO))

from tools import bench_adhoc, bench_baseline, bench_rules, bench_semantic, corpus  # noqa: E402

OUT = TOOLS / ".bench"
COLD_ROUNDS = 3
CODELENS = str(Path(sys.executable).with_name("codelens"))  # the console script users run
PEERS = OUT / "peers"  # semgrep and ast-grep, installed here, never project dependencies


def codelens(*args: str, env: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    """Run the CLI as a user would (a fresh interpreter); (wall seconds, --json summary)."""
    started = time.perf_counter()
    result = subprocess.run([CODELENS, *args, "--json"], cwd=REPO,
                            capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"codelens {' '.join(args)} failed:\n{result.stderr}")
    return wall, json.loads(result.stdout)


def parsed_files(root: Path) -> list[tuple[str, str]]:
    """(path, language) of every file codelens parses under root, as the index decides it."""
    from indexer import languages
    from indexer.settings import DEFAULT_MAX_FILE_SIZE
    from indexer.walk import walk

    chosen = []
    for walked in walk(root):
        language = languages.language_for_path(walked.path)
        if language is None or walked.stamp.size > DEFAULT_MAX_FILE_SIZE:
            continue
        with open(root / walked.path, "rb") as handle:
            if b"\0" in handle.read(8192):
                continue
        chosen.append((str(root / walked.path), language))
    return chosen


def baseline_parse_walk(files: list[tuple[str, str]]) -> dict[str, float]:
    """Raw tree-sitter: parse each file and visit every node with a TreeCursor, reading kind
    and byte range, in one process (what any tree-sitter tool must at least do)."""
    import tree_sitter

    from indexer import languages

    parsers: dict[str, Any] = {}
    sources = [(open(path, "rb").read(), lang) for path, lang in files]
    for _, lang in sources:
        if lang not in parsers:
            parsers[lang] = tree_sitter.Parser(languages.load_grammar(lang).language)
    nodes = 0
    started = time.perf_counter()
    for source, lang in sources:
        cursor = parsers[lang].parse(source).walk()
        while True:
            node = cursor.node
            _ = (node.kind_id, node.start_byte, node.end_byte)  # what any consumer reads
            nodes += 1
            if cursor.goto_first_child():
                continue
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    break
            else:
                continue
            break
    return {"seconds": time.perf_counter() - started, "nodes": nodes,
            "bytes": sum(len(s) for s, _ in sources)}


def python_walk(root: Path) -> float:
    """A bare scandir + stat walk in a fresh interpreter: the floor for a stat pass."""
    code = ("import os,sys\nstack=[sys.argv[1]]\nwhile stack:\n d=stack.pop()\n"
            " for e in os.scandir(d):\n  if e.is_dir(follow_symlinks=False): stack.append(e.path)\n"
            "  else: e.stat(follow_symlinks=False)\n")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(root)], check=True)
    return time.perf_counter() - started


def git_status(root: Path, work: Path) -> float:
    copy = work / "git-copy"
    shutil.copytree(root, copy, symlinks=True)
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=bench"]
    subprocess.run(git + ["init", "-q"], cwd=copy, check=True)
    subprocess.run(git + ["add", "-A"], cwd=copy, check=True)
    subprocess.run(git + ["commit", "-qm", "corpus"], cwd=copy, check=True)
    subprocess.run(["git", "status", "--porcelain"], cwd=copy, capture_output=True, check=True)
    return median_of(5, lambda: timed(["git", "status", "--porcelain"], copy))


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - started


def median_of(runs: int, measure: Any) -> float:
    return statistics.median(measure() for _ in range(runs))


def process_per_file(files: list[tuple[str, str]], jobs: int) -> dict[str, float]:
    """A fresh interpreter per file doing the same parse + flatten + encode (the per-file
    subprocess design), ``jobs`` at a time."""
    code = ("import sys\nfrom indexer.parse import worker\nfrom indexer.model import ParseTask\n"
            "r = worker.parse_file(ParseTask(0, sys.argv[1], sys.argv[2]), worker.Parsers())\n"
            "sys.stdout.buffer.write(r.blob[:0])\n")

    def one(item: tuple[str, str]) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *item], cwd=REPO, check=True,
                       capture_output=True)
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        per_file = list(pool.map(one, files))
    wall = time.perf_counter() - started
    return {"files_per_s": len(files) / wall, **percentiles_ms(per_file)}


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95)}


def persistent_pool(files: list[tuple[str, str]], work: Path, jobs: int) -> dict[str, float]:
    """The same files through `codelens index --jobs N` (its pool of persistent workers)."""
    root = work / "pool-200"
    for index, (path, _lang) in enumerate(files):
        target = root / f"{index:03}_{Path(path).name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    wall, summary = codelens("index", str(root), "--jobs", str(jobs), "--db",
                             str(work / "pool-200.db"))
    per_file = summary["pool_per_file_ms"]  # a worker's time on each file, overhead included
    return {"files_per_s": summary["files"]["parsed"] / wall, "p50_ms": per_file["p50"],
            "p95_ms": per_file["p95"], "overhead": summary["pool_overhead_ms"]}


def edits(root: Path, db: Path, count: int = 5) -> list[float]:
    """Append a line to one Python file, then re-index; the wall time of each such run."""
    targets = [p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 4000][:count]
    walls = []
    for number, target in enumerate(targets):
        original = target.read_bytes()
        marker = f"\nbench_edit_marker_{time.time_ns()}_{number} = 1\n"
        target.write_bytes(original + marker.encode())
        wall, summary = codelens("index", str(root), "--db", str(db))
        assert summary["files"]["modified"] == 1 and summary["files"]["parsed"] == 1, summary
        walls.append(wall)
        target.write_bytes(original)
        codelens("index", str(root), "--db", str(db))
    return walls


def peers_installed() -> Path:
    """semgrep and ast-grep from PyPI in the benchmark's own environment."""
    if not (PEERS / "bin" / "semgrep").exists() or not (PEERS / "bin" / "ast-grep").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(PEERS / "bin" / "pip"), "install", "--quiet", "semgrep",
                        "ast-grep-cli"], check=True)
    return PEERS / "bin"


def scan_args(root: Path, rules: Path, db: Path, *extra: str) -> list[str]:
    return ["scan", str(root), "--config", str(rules), "--root", str(root), "--db", str(db),
            "--output", str(db.with_suffix(".scan.json")), *extra]


def codelens_scan(root: Path, rules: Path, db: Path, *extra: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = subprocess.run([CODELENS, *scan_args(root, rules, db),
                             "--json", *extra], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"codelens scan failed:\n{result.stderr}")
    return wall, json.loads(db.with_suffix(".scan.json").read_text())


def triples(results: list[dict[str, Any]], root: Path, key: str) -> set[tuple[str, str, int]]:
    found = set()
    for r in results:
        rule = r[key].rsplit(".", 1)[-1]  # semgrep prefixes ids with the config's folders
        path = r.get("path") or r.get("file")
        line = r["start"]["line"] if "start" in r else r["range"]["start"]["line"] + 1
        found.add((rule, str(Path(path).resolve().relative_to(root)) if Path(path).is_absolute()
                   else path, line))
    return found


def measure_scan(root: Path, work: Path, db: Path) -> dict[str, Any]:
    """Scan figures on an index that is current: codelens cold cache, re-scans, edits, and
    semgrep and ast-grep on the same rules and files."""
    rules = bench_rules.write(work / "rules")
    out: dict[str, Any] = {"rules": bench_rules.RULE_COUNT}
    wall, report = codelens_scan(root, rules["semgrep"], db)
    out["full"] = {"wall": wall, "stats": report["stats"], "findings": len(report["results"])}
    ours = triples(report["results"], root, "check_id")
    wall, again = codelens_scan(root, rules["semgrep"], db)
    out["rescan_nothing_changed"] = {"wall": wall, "stats": again["stats"]}
    out["rescan_after_edit"] = scan_edits(root, rules["semgrep"], db)
    peers = peers_installed()
    started = time.perf_counter()
    semgrep = subprocess.run(
        [str(peers / "semgrep"), "scan", "--config", str(rules["semgrep"]), "--json",
         "--metrics=off", "--disable-version-check", "--x-ignore-semgrepignore-files",
         "--no-git-ignore", "-j", "2",
         "--timeout", "0", str(root)], capture_output=True, text=True,
        env={**os.environ, "HOME": str(work / "home")})
    out["semgrep"] = {"wall": time.perf_counter() - started}
    theirs = triples(json.loads(semgrep.stdout)["results"], root, "check_id")
    started = time.perf_counter()
    astgrep = subprocess.run([str(peers / "ast-grep"), "scan", "-c", str(rules["astgrep"]), "-j",
                              "2", "--json=compact", str(root)], capture_output=True, text=True,
                             cwd=rules["astgrep"].parent)
    out["ast_grep"] = {"wall": time.perf_counter() - started,
                       "findings": len(json.loads(astgrep.stdout or "[]"))}
    out["agreement"] = agreement(ours, theirs)
    out["versus_ast_grep"] = full_scan_rounds(root, rules, db)
    return out


def full_scan_rounds(root: Path, rules: dict[str, Path], db: Path,
                     rounds: int = 3) -> dict[str, list[float]]:
    """codelens full scans (nothing cached) and ast-grep scans taking turns, so that neither
    gets the quieter moments of a noisy machine: the two walls compared are medians."""
    peers, walls = peers_installed(), {"codelens": [], "ast_grep": []}
    for _ in range(rounds):
        walls["codelens"].append(codelens_scan(root, rules["semgrep"], db, "--no-cache")[0])
        started = time.perf_counter()  # (ast-grep exits 1 when an error-level rule matched)
        subprocess.run([str(peers / "ast-grep"), "scan", "-c", str(rules["astgrep"]), "-j", "2",
                        "--json=compact", str(root)], cwd=rules["astgrep"].parent,
                       capture_output=True)
        walls["ast_grep"].append(time.perf_counter() - started)
    return walls


def scan_edits(root: Path, rules: Path, db: Path, count: int = 3) -> list[float]:
    targets = [p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 4000][50:50 + count]
    walls = []
    for number, target in enumerate(targets):
        original = target.read_bytes()
        target.write_bytes(original + f"\nbench_scan_edit_{time.time_ns()}_{number} = 1\n".encode())
        walls.append(codelens_scan(root, rules, db)[0])
        target.write_bytes(original)
        codelens_scan(root, rules, db)
    return walls


def agreement(ours: set[tuple[str, str, int]], theirs: set[tuple[str, str, int]]) -> dict[str, Any]:
    both = ours & theirs
    union = ours | theirs
    per_rule: dict[str, list[int]] = {}
    for rule, _path, _line in union:
        per_rule.setdefault(rule, [0, 0, 0])
    for triple in ours - theirs:
        per_rule[triple[0]][0] += 1
    for triple in theirs - ours:
        per_rule[triple[0]][1] += 1
    for triple in both:
        per_rule[triple[0]][2] += 1
    differing = {rule: {"only_codelens": a, "only_semgrep": b, "both": c}
                 for rule, (a, b, c) in per_rule.items() if a or b}
    return {"ours": len(ours), "semgrep": len(theirs), "both": len(both),
            "ratio": len(both) / len(union) if union else 1.0,
            "examples_only_codelens": sorted(ours - theirs)[:10],
            "examples_only_semgrep": sorted(theirs - ours)[:10],
            "rules_differing": dict(sorted(differing.items(),
                                           key=lambda kv: -sum(kv[1].values()))[:20])}


def measure_service(root: Path, work: Path, rules: Path) -> dict[str, Any]:
    """The daemon on the corpus: watch latency, scan and query through it, load."""
    import threading

    import apsw

    from indexer.service import client

    env = {"HOME": str(work / "home"), "XDG_RUNTIME_DIR": str(work)}
    os.environ.update(env)  # this process is a client too: same registry, same sockets
    entry = client.start(root, idle_timeout=600)
    try:
        db = root / ".codelens" / "index.db"
        deadline = time.monotonic() + 60
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        reader = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
        reader.set_busy_timeout(5000)
        wait_indexed(reader)
        out: dict[str, Any] = {"watch_latency_ms": watch_latency(root, reader)}
        out["scan_via_daemon_after_edit"] = daemon_scan_edits(root, rules, env)
        query = ["query", "SELECT count(*) FROM files", "--root", str(root)]
        out["query"] = median_of(5, lambda: cli_wall(query, env))  # (never via the daemon)
        rss_before = rss_kb(entry["pid"])
        errors: list[str] = []

        def load() -> None:
            for _ in range(50):
                try:
                    client.call(root, "query", {"sql": "SELECT count(*) FROM symbols"})
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    errors.append(repr(exc))

        threads = [threading.Thread(target=load) for _ in range(32)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        out["load"] = {"clients": 32, "requests": 32 * 50, "errors": len(errors),
                       "seconds": time.perf_counter() - started, "rss_before_kb": rss_before,
                       "rss_after_kb": rss_kb(entry["pid"])}
        reader.close()
    finally:
        client.stop(root)
    out["watch_burst"] = watch_burst(work)
    return out


def watch_burst(work: Path, count: int = 10_000) -> dict[str, float]:
    """``codelens watch`` on a fresh folder; ``count`` files written into one folder in a
    burst; seconds from the first write until a SQL reader sees them all, against a cold
    ``codelens index`` of the same tree."""
    import shutil

    import apsw

    root = work / "burst"
    (root / "many").mkdir(parents=True)
    (root / "seed.py").write_text("x = 1\n")
    process = subprocess.Popen([CODELENS, "watch", str(root)], cwd=REPO, text=True,
                               stderr=subprocess.PIPE,
                               env={**os.environ, "CODELENS_NO_DAEMON": "1"})
    try:
        assert process.stderr is not None and "watching" in process.stderr.readline()
        reader = apsw.Connection(str(root / ".codelens" / "index.db"),
                                 flags=apsw.SQLITE_OPEN_READONLY)
        reader.set_busy_timeout(5000)
        started = time.perf_counter()
        for n in range(count):
            (root / "many" / f"f{n}.py").write_text(f"def f{n}():\n    return {n}\n")
        while reader.execute("SELECT count(*) FROM files").fetchall()[0][0] < count + 1:
            if time.perf_counter() - started > 600:
                raise SystemExit("watch: a burst of new files not visible after 600 s")
            time.sleep(0.01)
        burst = time.perf_counter() - started
        reader.close()
    finally:
        process.terminate()
        process.wait()
    shutil.rmtree(root / ".codelens")
    cold = codelens("index", str(root), "--db", str(work / "burst.db"))[0]
    return {"files": count, "burst_s": burst, "cold_index_s": cold}


def wait_indexed(reader: Any) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if reader.execute("SELECT count(*) FROM runs").fetchall()[0][0]:
                return
        except Exception:  # noqa: BLE001 - the schema is not there yet
            pass
        time.sleep(0.2)


def watch_latency(root: Path, reader: Any, edits: int = 100) -> dict[str, float]:
    """Write one file, then poll as a separate SQL reader until its new hash is visible."""
    import hashlib

    targets = [p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 2000][:edits]
    latencies = []
    for number, target in enumerate(targets):
        rel = str(target.relative_to(root))
        original = target.read_bytes()
        content = original + f"\nbench_watch_{time.time_ns()}_{number} = 1\n".encode()
        expected = hashlib.sha256(content).hexdigest()
        started = time.perf_counter()
        target.write_bytes(content)
        while reader.execute("SELECT sha256 FROM files WHERE path = ?",
                             (rel,)).fetchall() != [(expected,)]:
            time.sleep(0.002)
            if time.perf_counter() - started > 30:
                raise SystemExit(f"watch: {rel} not visible after 30 s")
        latencies.append(time.perf_counter() - started)
        target.write_bytes(original)
        time.sleep(0.1)  # let the restore land before the next edit
    return percentiles_ms(latencies)


def cli_wall(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([CODELENS, *argv], cwd=REPO, check=True,
                   capture_output=True, env={**os.environ, **env})
    return time.perf_counter() - started


def daemon_scan_edits(root: Path, rules: Path, env: dict[str, str], count: int = 5) -> list[float]:
    argv = ["scan", str(root), "--config", str(rules), "--json", "--output",
            str(Path(env["XDG_RUNTIME_DIR"]) / "daemon-scan.json")]
    cli_wall(argv, env)  # fills the daemon's caches for this rule set
    targets = [p for p in sorted(root.rglob("*.py")) if p.stat().st_size > 4000][80:80 + count]
    walls = []
    for number, target in enumerate(targets):
        original = target.read_bytes()
        target.write_bytes(original + f"\nbench_daemon_{time.time_ns()}_{number} = 1\n".encode())
        time.sleep(0.3)  # an editor saves; the watcher has indexed it by the time one scans
        walls.append(cli_wall(argv, env))
        target.write_bytes(original)
        time.sleep(0.3)
    return walls


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(work: Path) -> dict[str, Any]:
    dirs = corpus.fetch_all()
    root = dirs[0].parent
    files = parsed_files(root)
    results: dict[str, Any] = {"corpus": {"root": str(root), "parsed_files": len(files)}}
    print(f"corpus: {root} ({len(files)} files to parse)", flush=True)
    # baseline, cold --jobs 1 and cold --jobs 2 take turns, COLD_ROUNDS times; each figure is
    # the median of its rounds (one round of each swung by up to 20% on these machines)
    baselines: list[dict[str, float]] = []
    colds: dict[int, list[tuple[float, dict[str, Any]]]] = {1: [], 2: []}
    for round_ in range(COLD_ROUNDS):
        baselines.append(baseline_parse_walk(files))
        for jobs in (1, 2):
            db = work / f"cold{jobs}.db"
            for stale in work.glob(f"cold{jobs}.db*"):
                stale.unlink()
            colds[jobs].append(codelens("index", str(root), "--jobs", str(jobs), "--db", str(db)))
        print(f"round {round_ + 1}: baseline {baselines[-1]['seconds']:.2f} s, cold --jobs 1 "
              f"{colds[1][-1][0]:.2f} s, --jobs 2 {colds[2][-1][0]:.2f} s", flush=True)
    results["baseline"] = {**baselines[0], "seconds": statistics.median(
        b["seconds"] for b in baselines), "rounds": [b["seconds"] for b in baselines]}
    results["cold"] = {}
    for jobs, runs in colds.items():
        wall = statistics.median(w for w, _ in runs)
        summary = next(s for w, s in runs if w == wall) if len(runs) % 2 else runs[-1][1]
        results["cold"][jobs] = {"wall": wall, "summary": summary,
                                 "rounds": [w for w, _ in runs]}
    db = work / "cold2.db"
    noops = [codelens("index", str(root), "--db", str(db)) for _ in range(5)]
    results["noop"] = sorted(wall for wall, _ in noops)
    results["noop_by_digest"] = sum(bool(s["walk"].get("tree_unchanged")) for _, s in noops)
    results["edit"] = edits(root, db)
    parsed_bytes = results["baseline"]["bytes"]
    db_bytes = sum(p.stat().st_size for p in work.glob("cold2.db*") if not p.name.endswith("lock"))
    results["db"] = {"bytes": db_bytes, "parsed_source_bytes": parsed_bytes}
    sample = files[:: max(1, len(files) // 200)][:200]
    results["per_file"] = {"process_per_file": process_per_file(sample, 2),
                           "persistent_pool": persistent_pool(sample, work, 2)}
    results["anchors"] = {"git_status": git_status(root, work),
                          "python_scandir_stat": median_of(5, lambda: python_walk(root))}
    results["scan"] = measure_scan(root, work, db)
    results["scan_baseline"] = bench_baseline.measure(root, work, work / "rules" / "semgrep",
                                                      CODELENS)
    results["adhoc"] = bench_adhoc.measure(root, db, CODELENS, peers_installed())
    results["time_by_stage"] = bench_semantic.time_by_stage(root, db, work / "rules" / "semgrep")
    results["conformance_rules"] = bench_semantic.measure_conformance_rules(
        root, work, db, CODELENS, triples, agreement, peers_installed() / "semgrep")
    results["service"] = measure_service(root, work, work / "rules" / "semgrep")
    return results


def report(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(measure, value, target, met) rows."""
    cold1, cold2 = results["cold"][1], results["cold"][2]
    base = results["baseline"]["seconds"]
    noop = statistics.median(results["noop"])
    edit = statistics.median(results["edit"])
    ratio_db = results["db"]["bytes"] / results["db"]["parsed_source_bytes"]
    summary2 = cold2["summary"]
    overhead = summary2["pool_overhead_ms"] or {"p50": 0, "p95": 0}
    pool, single = results["per_file"]["persistent_pool"], results["per_file"]["process_per_file"]
    parent_mb = max(cold1["summary"]["memory"]["parent_peak_mb"],
                    summary2["memory"]["parent_peak_mb"])
    return [
        ("baseline parse+walk, 1 process", f"{base:.2f} s", "", True),
        ("cold --jobs 1", f"{cold1['wall']:.2f} s = {cold1['wall'] / base:.2f}x baseline",
         "<= 2x baseline", cold1["wall"] <= 2 * base),
        ("cold --jobs 2", f"{cold2['wall']:.2f} s = {cold1['wall'] / cold2['wall']:.2f}x faster",
         ">= 1.6x faster than --jobs 1", cold1["wall"] / cold2["wall"] >= 1.6),
        ("no-op re-index (median of 5)",
         f"{noop:.3f} s = {noop / cold2['wall']:.1%} of cold --jobs 2, "
         f"{noop / cold1['wall']:.1%} of --jobs 1 (digest answered "
         f"{results.get('noop_by_digest', 0)} of 5)",
         "< 0.5 s and < 2% of cold", noop < 0.5 and noop < 0.02 * cold2["wall"]),
        ("one-file edit (median of 5)", f"{edit:.3f} s", "< 0.6 s", edit < 0.6),
        ("DB size / parsed source", f"{results['db']['bytes'] / 1e6:.1f} MB / "
         f"{results['db']['parsed_source_bytes'] / 1e6:.1f} MB = {ratio_db:.2f}x",
         "< 1.5x", ratio_db < 1.5),
        ("peak RSS parent / worker", f"{parent_mb:.0f} MB / "
         f"{summary2['memory']['worker_peak_mb']:.0f} MB", "parent < 300 MB", parent_mb < 300),
        ("pool overhead per file p50/p95", f"{overhead['p50']:.3f} / {overhead['p95']:.3f} ms",
         "< 1 ms", overhead["p95"] < 1),
        ("200 files: persistent pool", f"{pool['files_per_s']:.0f} files/s, "
         f"p50 {pool['p50_ms']:.1f} ms, p95 {pool['p95_ms']:.1f} ms", "", True),
        ("200 files: process per file", f"{single['files_per_s']:.0f} files/s, "
         f"p50 {single['p50_ms']:.0f} ms, p95 {single['p95_ms']:.0f} ms",
         "pool faster", pool["files_per_s"] > single["files_per_s"]),
        ("anchor: git status", f"{results['anchors']['git_status']:.3f} s", "", True),
        *scan_rows(results["scan"]),
        *bench_baseline.rows(results["scan_baseline"]),
        *bench_adhoc.rows(results["adhoc"]),
        ("  where a full scan's time goes", ", ".join(
            f"{stage} {share:.0%}" for stage, share in results["time_by_stage"].items()
            if stage != "total_s_under_profile" and share >= 0.02), "", True),
        *bench_semantic.rows(results["conformance_rules"]),
        *service_rows(results["service"]),
        ("anchor: python scandir+stat", f"{results['anchors']['python_scandir_stat']:.3f} s",
         "", True),
    ]


def service_rows(service: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    watch = service["watch_latency_ms"]
    scan = statistics.median(service["scan_via_daemon_after_edit"])
    load = service["load"]
    growth = load["rss_after_kb"] / max(1, load["rss_before_kb"]) - 1
    burst = service["watch_burst"]
    ratio = burst["burst_s"] / burst["cold_index_s"]
    return [
        ("watch: write -> visible to SQL", f"p50 {watch['p50_ms']:.0f} ms, p95 "
         f"{watch['p95_ms']:.0f} ms (100 edits)", "p95 < 200 ms", watch["p95_ms"] < 200),
        ("scan via daemon after an edit", f"{scan:.3f} s (median of 5)", "< 0.15 s",
         scan < 0.15),
        ("query (reads the database itself)", f"{service['query']:.3f} s", "", True),
        ("watch: 10,000 new files in one folder", f"{burst['burst_s']:.2f} s until visible "
         f"to SQL; cold index {burst['cold_index_s']:.2f} s = {ratio:.2f}x", "<= 1.5x",
         ratio <= 1.5),
        ("load: 32 clients x 50 requests", f"{load['errors']} errors, {load['seconds']:.1f} s, "
         f"RSS {load['rss_before_kb'] / 1024:.0f} -> {load['rss_after_kb'] / 1024:.0f} MB",
         "0 errors, RSS +<10%", load["errors"] == 0 and growth < 0.10),
    ]


def scan_rows(scan: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    full, again = scan["full"], scan["rescan_nothing_changed"]
    edit = statistics.median(scan["rescan_after_edit"])
    prefilter = full["stats"]["prefilter"]
    skipped = prefilter["skipped_ratio_with_literals"] or 0.0
    kept = again["stats"]
    semgrep, astgrep, agree = scan["semgrep"]["wall"], scan["ast_grep"]["wall"], scan["agreement"]
    return [
        (f"scan {scan['rules']} rules, index current", f"{full['wall']:.2f} s, "
         f"{full['findings']} findings", "", True),
        ("  vs semgrep -j 2", f"{semgrep:.2f} s = {semgrep / full['wall']:.1f}x slower",
         ">= 5x", semgrep / full["wall"] >= 5),
        ("  vs ast-grep -j 2", f"{astgrep:.2f} s ({scan['ast_grep']['findings']} findings)",
         "", True),
        *versus_rows(scan.get("versus_ast_grep")),
        ("re-scan, nothing changed", f"{again['wall']:.2f} s, {kept['paths_matched']} paths "
         f"re-matched (kept report), {kept['cache']['misses']} cache misses", "", True),
        ("re-scan after a one-file edit", f"{edit:.3f} s (median of 3)", "< 0.6 s", edit < 0.6),
        ("prefilter", f"{prefilter['time_ms']:.0f} ms, skips {skipped:.1%} (rules with literals)",
         "< 50 ms, >= 90%", prefilter["time_ms"] < 50 and skipped >= 0.9),
        ("agreement with semgrep", f"{agree['ratio']:.1%} of "
         f"{agree['ours'] + agree['semgrep'] - agree['both']} (rule, file, line)", ">= 95%",
         agree["ratio"] >= 0.95),
    ]


def versus_rows(walls: dict[str, list[float]] | None) -> list[tuple[str, str, str, bool]]:
    if not walls:
        return []
    ours, theirs = statistics.median(walls["codelens"]), statistics.median(walls["ast_grep"])
    return [(f"  full scan vs ast-grep, taking turns (median of {len(walls['codelens'])})",
             f"{ours:.2f} s vs {theirs:.2f} s = {theirs / ours:.2f}x", "codelens no slower",
             ours <= theirs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="codelens-bench-"))
    try:
        results = measure(work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = report(results)
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, target, met in rows:
        mark = "" if not target else ("  ok" if met else "  MISSED")
        print(f"{name:<{width}}  {value:<44} {target}{mark}")
    results["table"] = [dict(zip(("measure", "value", "target", "met"), r, strict=True))
                        for r in rows]
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwritten {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
