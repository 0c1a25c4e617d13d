"""The regression ratchet: every conformance test recorded as passing
(tests/conformance_passing.tsv) still passes, run by the harness itself on the real scan."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

HARNESS = REPO.parent / "shared" / "conformance"


@pytest.mark.skipif(not HARNESS.is_dir(), reason=f"no conformance suites beside the checkout "
                    f"({HARNESS}): the ratchet cannot run here")
def test_recorded_conformance_tests_still_pass() -> None:
    done = subprocess.run([sys.executable, str(REPO / "tools" / "conformance.py"), "check"],
                          capture_output=True, text=True, timeout=900)
    regressions = [line for line in done.stdout.splitlines() if line.startswith("REGRESSION")]
    assert done.returncode == 0 and not regressions, "\n".join(regressions) or done.stderr


def test_the_record_names_real_tests() -> None:
    """The record is not empty and every entry names a suite the harness has."""
    rows = [line.split("\t") for line in (REPO / "tests" / "conformance_passing.tsv")
            .read_text().splitlines() if line and not line.startswith("#")]
    assert len(rows) >= 784  # what passed when the ratchet was made; it only grows
    suites = {suite for suite, _file, _id in rows}
    assert suites == {f"{kind}/{lang}" for kind in ("patterns", "rules")
                      for lang in ("python", "javascript", "typescript", "go", "java")}
    if HARNESS.is_dir():
        missing = [f for suite, f, _id in rows if not (HARNESS / suite.split("/")[0] / f).exists()]
        assert not missing, missing[:5]
