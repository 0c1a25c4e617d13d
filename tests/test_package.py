"""The package as a user installs it: an sdist made from the repository's files, a wheel built
from that sdist, installed into a fresh virtualenv, then its `codelens` run on a small tree
from a folder outside the repository. Slow (a real C build of the native walker): select
with ``-m slow``, leave out with ``-m "not slow"``.

No network: the builds use this environment's setuptools (``--no-build-isolation``) and the
new virtualenv gets the dependencies through a .pth file naming this environment's
site-packages (a .pth line adds a folder; it does not run that folder's .pth files, so this
checkout's editable install stays out). The wheel itself goes in with ``--no-deps``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO, write_tree

pytestmark = pytest.mark.slow

RULE = """\
rules:
  - id: no-eval
    languages: [python]
    severity: ERROR
    message: eval of $X
    pattern: eval($X)
"""
PROJECT: dict[str, str | bytes] = {
    "app/main.py": "import os\n\n\ndef run(text):\n    return eval(text)\n",
    "app/util.py": "class Helper:\n    def go(self):\n        return 1\n",
    "web/app.js": "function hello(name) { return 'hi ' + name; }\n",
    "lib/thing.rs": "struct Point { x: i32 }\n",  # symbols from the tags query, not the plan
}


def run(argv: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 300) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on the path (tests run with PYTHONPATH=repo)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CODELENS_NATIVE")}
    return {**env, "CODELENS_NO_DAEMON": "1", **extra}


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist of a copy of the checkout's files (egg-info and build/ land in the copy)."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    assert (major, minor) >= (74, 1), (
        f"setuptools {setuptools.__version__} cannot build codelens (ext-modules in "
        "pyproject.toml need 74.1): `make` installs the dev extras, which require it")
    work = tmp_path_factory.mktemp("sdist")
    source = work / "codelens"
    source.mkdir()
    for name in ("pyproject.toml", "MANIFEST.in", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "indexer", source / "indexer",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "sdist",
         "--dist-dir", work], cwd=source, env=clean_env())
    (archive,) = work.glob("codelens-*.tar.gz")
    return archive


def install(sdist: Path, where: Path, env: dict[str, str]) -> Path:
    """Build a wheel from ``sdist`` and install it into a new virtualenv; its bin folder."""
    wheels = where / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", wheels, sdist], cwd=where, env=env)
    (wheel,) = wheels.glob("codelens-*.whl")
    venv = where / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=where, env=env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel], cwd=where, env=env)
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    cwd=where, env=env).strip())
    ours = [p for p in sys.path if p.endswith("site-packages")] or [
        sysconfig.get_paths()["purelib"]]
    (site / "codelens-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    return venv / "bin"


def index_and_scan(bin_dir: Path, cwd: Path) -> dict[str, object]:
    """Index and scan PROJECT with the installed codelens; its status facts."""
    write_tree(cwd / "project", PROJECT)
    (cwd / "rules.yml").write_text(RULE)
    env = clean_env()
    where = run([bin_dir / "python", "-c", "import indexer; print(indexer.__file__)"], cwd, env)
    assert Path(where.strip()).is_relative_to(bin_dir.parent), where  # not this checkout
    db = cwd / "index.db"
    summary = json.loads(run([bin_dir / "codelens", "index", "project", "--db", db, "--json"],
                             cwd, env))
    files = summary["files"]  # type: ignore[index]
    assert files["added"] == 4 and files["parsed"] == 4 and files["failed"] == 0, summary
    symbols = run([bin_dir / "codelens", "query", "--db", db, "--json",
                   "SELECT name, kind FROM symbols ORDER BY name"], cwd, env)
    assert {(s["name"], s["kind"]) for s in json.loads(symbols)} >= {
        ("run", "function"), ("Helper", "class"), ("go", "function"), ("hello", "function"),
        ("Point", "class")}, symbols
    report = json.loads(run([bin_dir / "codelens", "scan", "--config", "rules.yml", "project",
                             "--root", "project", "--db", db, "--json"], cwd, env))
    found = [(r["check_id"], r["path"], r["start"]["line"]) for r in report["results"]]
    assert len(found) == 1 and found[0][0] == "no-eval" and found[0][2] == 5, report
    assert found[0][1].endswith("app/main.py"), report
    return json.loads(run([bin_dir / "codelens", "status", "project", "--db", db, "--json"],
                          cwd, env))  # type: ignore[no-any-return]


def test_the_wheel_installs_and_indexes_with_its_native_walker(sdist: Path,
                                                               tmp_path: Path) -> None:
    bin_dir = install(sdist, tmp_path, clean_env())
    run([bin_dir / "python", "-c", "import indexer._native"], tmp_path, clean_env())
    facts = index_and_scan(bin_dir, tmp_path)
    assert str(facts["native_walker"]).startswith("on (tree-sitter "), facts


def test_without_a_compiler_it_installs_and_runs_its_python_path(sdist: Path,
                                                                 tmp_path: Path) -> None:
    bin_dir = install(sdist, tmp_path, clean_env(CC="false"))  # every compile fails
    facts = index_and_scan(bin_dir, tmp_path)
    assert str(facts["native_walker"]).startswith("off (not built: "), facts
