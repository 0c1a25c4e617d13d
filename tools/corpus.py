"""Download the pinned benchmark corpus from the package registries into an ignored cache folder.

Django 5.1.4 (sdist, PyPI) and the npm tarballs rxjs 7.8.1 and lodash 4.17.21, unpacked under
``tools/.corpus/`` (ignored by git). Re-running is a no-op once a package is unpacked.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".corpus"
PYPI = [("django", "5.1.4")]
NPM = [("rxjs", "7.8.1"), ("lodash", "4.17.21")]


def _unpack(archive: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    tmp.rename(dest)  # atomic: a half-unpacked corpus never looks complete


def fetch_pypi(name: str, version: str, root: Path) -> Path:
    dest = root / f"{name}-{version}"
    if not dest.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--no-binary", ":all:", "-d", tmp, f"{name}=={version}"],
                check=True,
            )
            _unpack(next(Path(tmp).glob("*.tar.gz")), dest)
    return dest


def fetch_npm(name: str, version: str, root: Path) -> Path:
    dest = root / f"{name}-{version}"
    if not dest.exists():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp,
                           check=True, stdout=subprocess.DEVNULL)
            _unpack(next(Path(tmp).glob("*.tgz")), dest)
    return dest


def fetch_all(root: Path = CACHE) -> list[Path]:
    """Fetch every corpus package; returns the unpacked directories."""
    root.mkdir(parents=True, exist_ok=True)
    dirs = [fetch_pypi(n, v, root) for n, v in PYPI]
    dirs += [fetch_npm(n, v, root) for n, v in NPM]
    return dirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=CACHE)
    for d in fetch_all(parser.parse_args().root):
        print(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
