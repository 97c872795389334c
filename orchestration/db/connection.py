"""Connecting to PostgreSQL: one UTC session, committed or rolled back; which errors are worth a retry."""

from __future__ import annotations

import contextlib
import logging
from contextlib import contextmanager
from typing import TypeVar

from orchestration.settings import DbTarget

log = logging.getLogger(__name__)
T = TypeVar("T")


def connection_errors() -> tuple[type[BaseException], ...]:
    import psycopg2

    return (psycopg2.OperationalError, psycopg2.InterfaceError)


PERMANENT_ERRORS = ("does not exist", "authentication failed", "no password supplied", "role ")


def is_permanent(exc: BaseException) -> bool:
    """Errors that waiting cannot fix (wrong database, user or password): fail at once."""
    message = str(exc)
    return any(marker in message for marker in PERMANENT_ERRORS)


def is_transient(exc: BaseException | object) -> bool:
    """A connection error that waiting may fix: worth a retry (the load task's retry condition). So is the bare
    DatabaseError without SQLSTATE that psycopg2 raises when libpq ends a statement with no message at all, as it
    did for a COPY whose server restarted ("error with status PGRES_COPY_OUT and no message from the libpq")."""
    return (isinstance(exc, connection_errors()) or _ended_without_a_message(exc)) and not is_permanent(exc)


def _ended_without_a_message(exc: BaseException | object) -> bool:
    import psycopg2

    return type(exc) is psycopg2.DatabaseError and exc.pgcode is None


CONNECT_OPTIONS = {"connect_timeout": 10, "options": "-c timezone=UTC"}  # every session, the COPY readers' too


def connect(target: DbTarget, *, application: str = "smartgrid"):
    """One psycopg2 connection in UTC. Raises psycopg2.OperationalError when unreachable."""
    import psycopg2

    return psycopg2.connect(**target.connect_kwargs(), application_name=application, **CONNECT_OPTIONS)


@contextmanager
def connected(target: DbTarget, *, application: str = "smartgrid", autocommit: bool = False):
    """A connection that is committed on success, rolled back on error, and always closed."""
    conn = connect(target, application=application)
    conn.autocommit = autocommit
    try:
        yield conn
        if not autocommit:
            conn.commit()
    except BaseException:
        if not autocommit and not conn.closed:
            with contextlib.suppress(Exception):  # a dead connection cannot roll back: keep the original error
                conn.rollback()
        raise
    finally:
        conn.close()


def ensure_database(target: DbTarget) -> bool:
    """Create `target.dbname` if it does not exist (needs CREATEDB); return True when created."""
    from psycopg2 import sql

    admin = DbTarget(target.host, target.port, "postgres", target.user, target.password)
    with connected(admin, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (target.dbname,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(target.dbname)))
        cur.execute(sql.SQL("alter database {} set timezone to 'UTC'").format(sql.Identifier(target.dbname)))
        return True


def drop_database(target: DbTarget) -> None:
    """Drop `target.dbname` (used by tests); ends other sessions on it first."""
    from psycopg2 import sql

    admin = DbTarget(target.host, target.port, "postgres", target.user, target.password)
    with connected(admin, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(target.dbname)))
