"""Connections: the embedded PostgreSQL, resolved targets, and connecting with retries."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from orchestration.settings import DbTarget, ServerConfig, Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

EMBEDDED_PORT = 5432


# --- the embedded server -------------------------------------------------------------------------


def _silence_pgserver() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def start_embedded(settings: Settings) -> str:
    """Start (or find running) the embedded server; return its Unix-socket directory."""
    _silence_pgserver()
    import pgserver

    settings.pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(settings.pgdata, cleanup_mode=None)  # keeps running after we exit
    info = server.get_postmaster_info()
    return str(info.socket_dir)


def embedded_socket_dir(settings: Settings) -> str | None:
    """The running embedded server's socket directory, or None when it is not running."""
    _silence_pgserver()
    from pgserver.utils import PostmasterInfo

    if not (settings.pgdata / "PG_VERSION").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(settings.pgdata)
    if info is None or not info.is_running():
        return None
    return str(info.socket_dir)


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if embedded_socket_dir(settings) is None:
        return False
    import subprocess

    from pgserver._commands import pg_ctl

    try:
        pg_ctl(["-w", "stop"], pgdata=settings.pgdata, user=_pgserver_system_user())
    except subprocess.CalledProcessError as exc:  # already stopping
        log.warning("pg_ctl stop: %s", exc)
    return True


def _pgserver_system_user() -> str | None:
    import os

    return "pgserver" if os.geteuid() == 0 else None


# --- targets ----------------------------------------------------------------------------------------


def _target(config: ServerConfig, socket_dir: str | None) -> DbTarget:
    if config.host is None:
        assert socket_dir is not None
        return DbTarget(socket_dir, EMBEDDED_PORT, config.dbname, config.user, config.password)
    return DbTarget(config.host, config.port, config.dbname, config.user, config.password)


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source). Starts the embedded server when it is configured and `start` is true."""
    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")
    return _target(settings.warehouse, socket_dir), _target(settings.source, socket_dir)


# --- connecting -------------------------------------------------------------------------------------


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


RUN_LOCK_KEY = 5_317_002  # pg_advisory_lock key held by a whole pipeline run (load -> dbt -> checks)


class RunLockTimeout(RuntimeError):
    """Another run holds the pipeline lock for longer than we were willing to wait."""


@contextmanager
def run_lock(target: DbTarget, *, wait_seconds: float = 1800, poll_seconds: float = 5):
    """Hold the warehouse-wide pipeline lock: runs for overlapping windows never interleave their writes.

    A second run waits (logging every minute) and gives up with RunLockTimeout after `wait_seconds`.
    The lock is a session lock, so it is released even if this process dies.
    """
    conn = connect(target, application="smartgrid-run-lock")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            waited = 0.0
            while True:
                cur.execute("select pg_try_advisory_lock(%s)", (RUN_LOCK_KEY,))
                if cur.fetchone()[0]:
                    break
                if waited >= wait_seconds:
                    raise RunLockTimeout(
                        f"another smartgrid run holds the pipeline lock on {target.dbname}; "
                        f"gave up after {waited:.0f} s (nothing was written by this run)"
                    )
                if waited % 60 == 0:
                    log.warning("another smartgrid run is in progress on %s; waiting for it", target.dbname)
                time.sleep(poll_seconds)
                waited += poll_seconds
        yield
    finally:
        conn.close()  # ends the session, which releases the lock
