"""The one table of user-facing errors: each class carries its exit code and a hint.

The library raises these; only ``cli.py`` prints them and turns them into exit codes.

| exit | meaning |
|------|---------|
| 0    | success |
| 1    | findings reported with ``--error`` (scan; rule errors beside them do not change it) |
| 2    | the user must act: bad arguments, bad SQL, no rule could run, unusable database |
| 3    | another codelens process holds the index's write lock |
| 130  | interrupted (Ctrl-C / SIGTERM); every committed batch is kept |
"""

from __future__ import annotations


class CodelensError(Exception):
    """Base of every error codelens reports to a user."""

    exit_code = 2
    title = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(CodelensError):
    title = "usage"


class DatabaseError(CodelensError):
    """The database cannot be opened, is corrupt, or is from a newer codelens."""

    title = "database"


class QueryError(CodelensError):
    """A ``codelens query`` statement is invalid or tries to write."""

    title = "query"


class LockedError(CodelensError):
    """Another indexer holds the write lock of this index."""

    exit_code = 3
    title = "locked"


class Interrupted(CodelensError):
    """The run was stopped by a signal; committed batches are kept."""

    exit_code = 130
    title = "interrupted"



class GitError(CodelensError):
    """``scan --baseline-commit``: git is missing, the root is not in a repository, or the
    commit is unknown."""

    title = "git"
