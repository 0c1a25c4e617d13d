"""The README tells the truth: every command and every flag of the CLI appears in it."""

from __future__ import annotations

import argparse

from indexer.cli import build_parser
from tests.conftest import REPO


def _flags(parser: argparse.ArgumentParser, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((prefix, name))
                found += _flags(sub, name)
        else:
            found += [(prefix, flag) for flag in action.option_strings if flag.startswith("--")]
    return found


def test_every_command_and_flag_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    flags = _flags(build_parser())
    assert len(flags) > 20
    missing = [(command, flag) for command, flag in flags
               if flag not in ("--help",) and flag not in readme]
    assert not missing, f"not documented in README.md: {missing}"
    for command in ("codelens index", "codelens query", "codelens status", "codelens cache"):
        assert command in readme


def test_readme_opens_with_the_two_commands() -> None:
    opening = (REPO / "README.md").read_text().split("## ")[0]
    assert "make run" in opening and "make test" in opening

