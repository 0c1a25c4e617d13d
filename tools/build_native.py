"""Build indexer/_native (the C node walker) against the installed py-tree-sitter release.

The walker reads py-tree-sitter's Tree object and walks it with tree-sitter's own cursor code,
so it must be compiled from the core sources of exactly the release that is installed. Those
come from that release's sdist on the package registry (``pip download``, cached in
tools/.native/). ``make`` runs this after installing; codelens works without the module (its
Python walk gives the same blobs, ~2x slower on a cold index) and says so in ``status``.

    python tools/build_native.py [--force]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "indexer" / "_native.c"
CACHE = HERE / ".native"


def installed_tree_sitter() -> str:
    from importlib import metadata

    return metadata.version("tree-sitter")


def core_sources(version: str) -> Path:
    """tree-sitter's lib/ folder from the sdist of py-tree-sitter ``version``."""
    unpacked = CACHE / f"tree_sitter-{version}"
    lib = unpacked / "tree_sitter" / "core" / "lib"
    if (lib / "src" / "lib.c").exists():
        return lib
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "--dest", str(CACHE), f"tree-sitter=={version}"],
                   check=True)
    archive = CACHE / f"tree_sitter-{version}.tar.gz"
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith(f"tree_sitter-{version}/tree_sitter/core/lib/")]
        tar.extractall(CACHE, members=members, filter="data")
    if not (lib / "src" / "lib.c").exists():
        raise SystemExit(f"the tree-sitter {version} sdist has no core sources at {lib}")
    return lib


def target() -> Path:
    return SOURCE.with_name("_native" + sysconfig.get_config_var("EXT_SUFFIX"))


def build(force: bool = False) -> Path:
    version = installed_tree_sitter()
    out = target()
    stamp = out.with_suffix(out.suffix + ".version")
    if (not force and out.exists() and stamp.exists() and stamp.read_text() == version
            and out.stat().st_mtime >= SOURCE.stat().st_mtime):
        return out
    lib = core_sources(version)
    compiler = (sysconfig.get_config_var("CC") or "cc").split()
    # the flags CPython's own extensions get (-O3 -fwrapv); hidden symbols keep this copy of
    # tree-sitter's core from clashing with the binding's
    command = [*compiler, "-O3", "-fwrapv", "-fPIC", "-shared", "-std=c11",
               "-fvisibility=hidden", "-Wall", "-Wextra", "-D_DEFAULT_SOURCE",
               f'-DCODELENS_TS_VERSION="{version}"',
               f"-I{sysconfig.get_paths()['include']}", f"-I{lib / 'include'}",
               f"-I{lib / 'src'}", str(lib / "src" / "lib.c"), str(SOURCE), "-o", str(out),
               "-pthread"]
    subprocess.run(command, check=True)
    stamp.write_text(version)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    try:
        out = build(args.force)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"build_native: failed: {exc}\n(codelens still runs without it, on its Python "
              "walk, about 2x slower on a cold index)", file=sys.stderr)
        return 1
    print(f"build_native: {out.relative_to(HERE.parent)} (tree-sitter "
          f"{installed_tree_sitter()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
