"""Connecting to PostgreSQL: one UTC session, committed or rolled back, retried on connection errors."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from orchestration.settings import DbTarget

log = logging.getLogger(__name__)
T = TypeVar("T")


def connection_errors() -> tuple[type[BaseException], ...]:
    import psycopg2

    return (psycopg2.OperationalError, psycopg2.InterfaceError)


def with_retries(
    action: Callable[[], T],
    *,
    what: str,
    attempts: int = 5,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    retry_on: tuple[type[BaseException], ...] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `action`, retrying connection errors with exponential backoff and full jitter."""
    retry_on = retry_on or connection_errors()
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except retry_on as exc:
            if attempt == attempts or is_permanent(exc):
                raise
            delay = random.uniform(0, min(max_delay, base_delay * 2 ** (attempt - 1)))
            log.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.1f s",
                what,
                attempt,
                attempts,
                str(exc).strip().splitlines()[0],
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")


PERMANENT_ERRORS = ("does not exist", "authentication failed", "no password supplied", "role ")


def is_permanent(exc: BaseException) -> bool:
    """Errors that waiting cannot fix (wrong database, user or password): fail at once."""
    message = str(exc)
    return any(marker in message for marker in PERMANENT_ERRORS)


def connect(target: DbTarget, *, application: str = "smartgrid"):
    """One psycopg2 connection in UTC. Raises psycopg2.OperationalError when unreachable."""
    import psycopg2

    return psycopg2.connect(
        **target.connect_kwargs(),
        application_name=application,
        connect_timeout=10,
        options="-c timezone=UTC",
    )


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
        if not autocommit:
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
