"""One clear line for a database the run cannot reach: which database, which settings to check, and why.

psycopg2's own error names a host or a user, never the variable to fix, and does not say whether waiting
helps. After a step failed on a connection error, each database is probed once and the first one that
refuses is explained. The line never carries a password (libpq's messages do not, and none is added)."""

from __future__ import annotations

from orchestration.db.connection import connect, connection_errors
from orchestration.settings import DbTarget

PREFIX = {"warehouse": "POSTGRES_", "source": "SOURCE_POSTGRES_"}


class DatabaseUnreachable(ConnectionError):
    """A database of the run refused or did not answer; the message says which and what to check."""


def explain(exc: BaseException, targets: dict[str, DbTarget]) -> str:
    """The line for the first of `targets` ({"warehouse": ..., "source": ...}) that cannot be connected to."""
    for role, target in targets.items():
        try:
            connect(target, application="smartgrid-probe").close()
        except connection_errors() as refused:
            return describe(role, target, refused)
    return f"lost the connection to a database during the run: {first_line(exc)}"


def describe(role: str, target: DbTarget, exc: BaseException) -> str:
    text = str(exc)
    if "password" in text or "authentication" in text:
        names, why = ("USER", "PASSWORD"), "the server rejected the user or password (retrying cannot fix this)"
    elif "database" in text and "does not exist" in text:
        names, why = ("DB",), "no such database on that server (retrying cannot fix this)"
    elif "role" in text and "does not exist" in text:
        names, why = ("USER",), "no such user on that server (retrying cannot fix this)"
    else:
        names, why = ("HOST", "PORT"), "the server did not answer (is it running and reachable?)"
    settings = ", ".join(PREFIX[role] + name for name in names)
    return (
        f"cannot connect to the {role} database {target.dbname} at {target.host}:{target.port} as {target.user}: "
        f"{why}; check {settings} ({first_line(exc)})"
    )


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
