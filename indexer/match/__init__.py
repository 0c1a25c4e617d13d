"""Semgrep-format rules, patterns compiled by the target grammar, matching on stored ASTs."""
