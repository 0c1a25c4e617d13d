"""The watcher on a real tree: every kind of change lands, as one generation per batch."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexer import engine
from indexer.service.watcher import Watcher
from indexer.settings import IndexOptions
from tests.conftest import REPO, db_rows, wait_until

Lines = list[str]


@pytest.fixture
def watched(tree: Callable[..., Path]) -> Iterator[tuple[Path, Lines]]:
    root = tree({"src/a.py": "def alpha(): pass\n", "src/pkg/m.py": "x = 1\n",
                 ".gitignore": "build/\n", "build/out.py": "y = 2\n"})
    options = IndexOptions(root=root.resolve(), db_path=root.resolve() / ".codelens" / "index.db",
                           jobs=1)
    engine.index(options)
    lines: Lines = []
    watcher = Watcher(options, settle=0.05, log=lines.append)
    watcher.start()
    time.sleep(0.2)  # let inotify set its watches
    yield root, lines
    watcher.stop()


def paths(root: Path) -> set[str]:
    return {p for (p,) in db_rows(root, "SELECT path FROM files")}


def test_create_edit_delete(watched: tuple[Path, Lines]) -> None:
    root, lines = watched
    (root / "src" / "new.py").write_text("def beta(): pass\n")
    wait_until(lambda: "src/new.py" in paths(root))
    (root / "src" / "new.py").write_text("def gamma(): pass\n")
    wait_until(lambda: db_rows(root, "SELECT name FROM symbols WHERE path = 'src/new.py'")
               == [("gamma",)])
    (root / "src" / "new.py").unlink()
    wait_until(lambda: "src/new.py" not in paths(root))
    changes = db_rows(root, "SELECT change FROM changes WHERE path = 'src/new.py'"
                            " ORDER BY generation")
    assert [c for (c,) in changes] == ["added", "modified", "deleted"]
    assert any("generation" in line and "ms" in line for line in lines)


def test_rename_and_directory_move(watched: tuple[Path, Lines]) -> None:
    root, _ = watched
    (root / "src" / "a.py").rename(root / "src" / "renamed.py")
    wait_until(lambda: {"src/renamed.py"} <= paths(root) and "src/a.py" not in paths(root))
    (root / "src" / "pkg").rename(root / "moved")
    wait_until(lambda: "moved/m.py" in paths(root) and "src/pkg/m.py" not in paths(root))
    outside = root.parent / "elsewhere"
    outside.mkdir()
    (root / "moved").rename(outside / "moved")  # out of the tree: deleted
    wait_until(lambda: "moved/m.py" not in paths(root))
    (outside / "moved").rename(root / "back")  # into the tree: added
    wait_until(lambda: "back/m.py" in paths(root))


def test_editor_atomic_save(watched: tuple[Path, Lines]) -> None:
    root, _ = watched
    temporary = root / "src" / ".a.py.swp"
    temporary.write_text("def saved(): pass\n")
    os.replace(temporary, root / "src" / "a.py")
    wait_until(lambda: db_rows(root, "SELECT name FROM symbols WHERE path = 'src/a.py'")
               == [("saved",)])
    assert "src/.a.py.swp" not in paths(root)


def test_gitignore_change_reevaluates_the_tree(watched: tuple[Path, Lines]) -> None:
    root, _ = watched
    assert "build/out.py" not in paths(root)
    (root / ".gitignore").write_text("# nothing ignored now\n")
    wait_until(lambda: "build/out.py" in paths(root))
    (root / ".gitignore").write_text("src/\n")
    wait_until(lambda: not any(p.startswith("src/") for p in paths(root)))


def test_a_burst_is_one_generation(watched: tuple[Path, Lines]) -> None:
    root, _ = watched
    before = db_rows(root, "SELECT max(generation) FROM generations")[0][0]
    for i in range(20):
        (root / "src" / f"burst{i}.py").write_text(f"v = {i}\n")
    wait_until(lambda: sum(p.startswith("src/burst") for p in paths(root)) == 20)
    after = db_rows(root, "SELECT max(generation) FROM generations")[0][0]
    assert after - before <= 3  # batched, not one generation per file


def test_a_name_that_is_not_utf8_is_reported_and_watching_goes_on(
        watched: tuple[Path, Lines]) -> None:
    root, lines = watched
    with open(os.path.join(bytes(root), b"src/bad\xffname.py"), "wb") as handle:
        handle.write(b"x = 1\n")
    wait_until(lambda: any("bad\\xffname.py" in line and "not valid UTF-8" in line
                           for line in lines))
    (root / "src" / "after.py").write_text("def later(): pass\n")
    wait_until(lambda: "src/after.py" in paths(root))
    assert not any(".py" in p and not p.isascii() for p in paths(root))


def test_a_failing_batch_is_logged_and_watching_goes_on(tree: Callable[..., Path]) -> None:
    root = tree({"a.py": "x = 1\n"})
    options = IndexOptions(root=root.resolve(), db_path=root.resolve() / ".codelens" / "index.db",
                           jobs=1)
    engine.index(options)
    lines: Lines = []
    failures = [RuntimeError("disk on fire")]

    def after_batch(_summary: dict) -> None:
        if failures:
            raise failures.pop()

    watcher = Watcher(options, settle=0.05, log=lines.append, after_batch=after_batch)
    watcher.start()
    try:
        (root / "b.py").write_text("y = 2\n")
        wait_until(lambda: any("a batch failed (RuntimeError: disk on fire)" in line
                               for line in lines))
        (root / "c.py").write_text("z = 3\n")
        wait_until(lambda: "c.py" in paths(root))
        assert watcher.alive()
    finally:
        watcher.stop()


def test_watch_stops_when_its_root_is_deleted(tree: Callable[..., Path]) -> None:
    root = tree({"a.py": "x = 1\n"})
    process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "watch", str(root)],
                               cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        assert "watching" in process.stderr.readline()
        shutil.rmtree(root)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 2 and "is gone; stopping" in err
    assert not root.exists()  # nothing recreated it


def test_an_inotify_queue_overflow_rescans_the_tree(tree: Callable[..., Path]) -> None:
    """Stopped while far more events than the kernel queues happen, the watcher loses them;
    it hears of the overflow, says so, and a rescan finds the edits."""
    queued = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    root = tree({f"src/f{n}.py": "x = 0\n" for n in range(10)})
    process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "watch", str(root)],
                               cwd=REPO, stderr=subprocess.PIPE, text=True)
    lines: Lines = []
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    try:
        assert "watching" in process.stderr.readline()
        reader.start()
        process.send_signal(signal.SIGSTOP)
        noise = root / "noise.txt"
        for _ in range(queued // 2 + 1000):  # a modify and a close event each
            noise.write_text("n")
        for n in range(10):
            (root / "src" / f"f{n}.py").write_text(f"x = {n + 1}\n")
        process.send_signal(signal.SIGCONT)
        wait_until(lambda: any("inotify queue overflow" in line for line in lines))
        wait_until(lambda: db_rows(root, "SELECT count(*) FROM files WHERE path LIKE 'src/%' "
                                         "AND generation > 1") == [(10,)])
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=60)
        if reader.is_alive():
            reader.join(timeout=60)  # its stderr closed with it


def test_files_the_root_gitignore_ignores_stay_out_when_created(
        watched: tuple[Path, Lines]) -> None:
    root, _ = watched
    (root / "build" / "late.py").write_text("z = 1\n")  # build/ is in the root .gitignore
    (root / "src" / "late.py").write_text("z = 2\n")
    wait_until(lambda: "src/late.py" in paths(root))
    assert "build/late.py" not in paths(root)


def test_watch_waits_for_another_writer_and_says_so(tree: Callable[..., Path]) -> None:
    """A `watch` started while another process writes the index says once which pid it
    waits for, and indexes when that one lets go (it used to exit 3 at once)."""
    root = tree({"a.py": "x = 1\n"})
    db = root / ".codelens" / "index.db"
    hold = ("import sys; from pathlib import Path; from indexer.store.connection import "
            "writer_lock\nwith writer_lock(Path(sys.argv[1])):\n    print('held', flush=True)"
            "\n    sys.stdin.readline()\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(db)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    process = None
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        process = subprocess.Popen([sys.executable, "-m", "indexer.cli", "watch", str(root)],
                                   cwd=REPO, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        assert f"waiting for pid {holder.pid}" in process.stderr.readline()
        assert process.poll() is None
        holder.communicate("go\n", timeout=60)
        assert "indexed 1 files" in process.stderr.readline()
        assert paths(root) == {"a.py"}
    finally:
        holder.kill()
        holder.wait()
        if process is not None:
            process.send_signal(signal.SIGTERM)  # (SIGINT is ignored where a job was
            process.communicate(timeout=60)        # started in the background by a script)
