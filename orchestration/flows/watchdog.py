"""Timeouts for runs that hang: the run fails with a message and releases the run lock.

Prefect's flow and task timeouts raise in the flow's thread, but not while that thread waits inside the
PostgreSQL driver (a query blocked on a lock in the source, a dbt model waiting on a mart): the C call does
not return. So at the same deadline a watchdog thread ends this run's database sessions (`pg_terminate_backend`
of the pipeline's sessions, by application name, that started during the run). The blocked call returns with
an error, Prefect's timeout takes over, and `run_lock` closes its session, which releases the lock.

| variable | default | |
|---|---|---|
| `SMARTGRID_RUN_TIMEOUT_SECONDS` | 3300 | a whole run (55 min: an hourly run ends before the next is due) |
| `SMARTGRID_LOAD_TIMEOUT_SECONDS` | 1800 | the load step |
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager

from orchestration.db.connection import connected
from orchestration.settings import DbTarget, load_settings

log = logging.getLogger(__name__)
# the pipeline's own sessions; waiting runs ("smartgrid-run-lock") are never touched
PIPELINE_SESSIONS = (
    "(application_name like 'smartgrid-%%' and application_name not in ('smartgrid-run-lock', 'smartgrid-watchdog'))"
    " or application_name = 'dbt'"
)


def run_timeout_seconds() -> int:
    """SMARTGRID_RUN_TIMEOUT_SECONDS (default 3300: a run must end before the next hour's starts)."""
    return load_settings().run_timeout_seconds


def load_timeout_seconds() -> int:
    """SMARTGRID_LOAD_TIMEOUT_SECONDS (default 1800)."""
    return load_settings().load_timeout_seconds


def current_timeout(default: float | None = None) -> float | None:
    """The timeout of the flow or task run this is called from (with_options included)."""
    from prefect.context import FlowRunContext, TaskRunContext

    task_context = TaskRunContext.get()
    if task_context is not None:
        return task_context.task.timeout_seconds or default
    flow_context = FlowRunContext.get()
    return (flow_context.flow.timeout_seconds if flow_context and flow_context.flow else None) or default


class RunTimeout(TimeoutError):
    """The run (or step) went past its timeout; the watchdog ended its database sessions."""


@contextmanager
def deadline(targets: Iterable[DbTarget], seconds: float | None):
    """If the block still runs after `seconds`, end the pipeline's sessions on `targets` begun since it started,
    every 2 s until the block exits (a retried connection is ended too), and raise RunTimeout from its error."""
    if not seconds:
        yield
        return
    unique = list({(t.host, t.port, t.dbname, t.user): t for t in targets}.values())
    stop, fired = threading.Event(), threading.Event()

    def watch() -> None:
        if stop.wait(seconds + 0.5):
            return
        fired.set()
        started = time.monotonic()
        while not stop.is_set():
            end_sessions(unique, seconds + 5 + (time.monotonic() - started))
            stop.wait(2)

    threading.Thread(target=watch, name="smartgrid-watchdog", daemon=True).start()
    try:
        yield
    except BaseException as exc:
        if fired.is_set():
            raise RunTimeout(
                f"exceeded timeout of {seconds:g} second(s): its database sessions were ended "
                f"(last error: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
            ) from exc
        raise
    finally:
        stop.set()


def end_sessions(targets: list[DbTarget], started_within_seconds: float) -> int:
    """Terminate the pipeline's sessions begun in the last `started_within_seconds`; return how many."""
    ended = 0
    for target in targets:
        try:
            with connected(target, application="smartgrid-watchdog", autocommit=True) as conn, conn.cursor() as cur:
                cur.execute(
                    "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity "
                    f"where datname = current_database() and pid <> pg_backend_pid() and ({PIPELINE_SESSIONS}) "
                    "and backend_start >= now() - make_interval(secs => %s)",
                    (started_within_seconds,),
                )
                ended += cur.fetchone()[0]
        except Exception as exc:  # the watchdog must never be what fails
            log.warning("timeout: could not end the run's sessions on %s: %s", target.describe(), type(exc).__name__)
    log.error("timeout: ended %d database session(s) of this run so it can fail and release the run lock", ended)
    return ended
