"""The warehouse-wide pipeline lock: runs for overlapping windows queue instead of interleaving their writes."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

from orchestration.db.connection import connect
from orchestration.settings import DbTarget

log = logging.getLogger(__name__)

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
