"""`make test` runs the suite in two processes (pytest-xdist: `-n 2 --dist loadfile`, a module at a time on one
worker). Most of a serial run is waiting (Prefect servers and workers starting, grace periods, subprocesses
importing, throttled COPYs), so two workers on two cores finish in about half the time.

Isolation: each worker has an embedded PostgreSQL of its own under $SMARTGRID_HOME/workers/<worker> (the
checkout's own server is left alone), so its databases, roles, tablespaces and `pg_ctl restart`s
(tests/faults.py) touch no other worker. These servers hold nothing but test databases, which the tests drop and
recreate, so they run without fsync: a crash of the machine could corrupt one (delete .smartgrid/workers/ then);
a clean restart, the only kind the tests make, loses nothing. Each worker starts its own Prefect test API
(conftest's prefect_api). A test marked `exclusive` (it reads or rewrites files that every test shares: the whole
repository, dbt's target/manifest.json in place) runs while no other test runs. With POSTGRES_HOST or
SOURCE_POSTGRES_HOST set the workers would share that server, so the suite then runs in one process (Makefile).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "" in a serial run, "gw0", "gw1", ... under xdist
EXTERNAL = ("POSTGRES_HOST", "SOURCE_POSTGRES_HOST")  # a server of your own: the workers would share it
# modules by descending duration (a two-process run's --durations summed per module; the `exclusive` ones run last), so
# that no long one starts last
SLOWEST_FIRST = (
    "test_deploy_and_schedule.py",
    "test_warehouse_slot.py",
    "test_faults.py",
    "test_flow.py",
    "test_marts.py",
    "test_make_serve.py",
    "test_alerts_automation.py",
    "test_deployments.py",
    "test_operations.py",
    "test_backfill.py",
    "test_dbt_project.py",
    "test_daily_checks.py",
    "test_vee.py",
    "test_vee_incremental.py",
    "test_roles.py",
    "test_hostile_rows.py",
    "test_view_rebuilds.py",
    "test_edit_loop.py",
    "test_report_build.py",
    "test_properties.py",
    "test_customers_over_time.py",
    "test_like_days.py",
    "test_network_loading.py",
)


def pytest_configure(config) -> None:
    if getattr(config.option, "numprocesses", None) and any(os.environ.get(name) for name in EXTERNAL):
        raise pytest.UsageError("POSTGRES_HOST or SOURCE_POSTGRES_HOST is set: run the tests in one process (no -n)")


def isolate_worker() -> None:
    """Before any setting is read: under xdist, this worker's own embedded PostgreSQL (SMARTGRID_HOME)."""
    if WORKER:
        from orchestration.settings import load_settings

        os.environ["SMARTGRID_HOME"] = str(load_settings().home / "workers" / WORKER)


# a worker's server holds test databases only: no fsync, no synchronous commit (both reloadable settings)
NO_FSYNC = ("alter system set fsync = off", "alter system set synchronous_commit = off",
            "alter system set full_page_writes = off", "select pg_reload_conf()")  # fmt: skip


def tune_worker_server(settings, warehouse) -> None:
    if WORKER and settings.embedded:
        from dataclasses import replace

        from orchestration.db.connection import connected

        with connected(replace(warehouse, dbname="postgres"), autocommit=True) as conn, conn.cursor() as cur:
            for statement in NO_FSYNC:
                cur.execute(statement)


def stop_worker_server(settings) -> None:
    """At the end of the session: stop the worker's embedded PostgreSQL (the checkout's keeps running)."""
    if WORKER and settings.embedded:
        from orchestration.local.postgres import stop_embedded

        stop_embedded(settings)


def pytest_collection_modifyitems(items) -> None:
    """Under xdist, the slowest modules first and those with an `exclusive` test last, when the other worker is
    likely done (the order inside a module stays)."""
    if WORKER:
        rank = {name: number for number, name in enumerate(SLOWEST_FIRST)}
        last = {item.path.name for item in items if item.get_closest_marker("exclusive")}
        items.sort(key=lambda item: len(rank) + 1 if item.path.name in last else rank.get(item.path.name, len(rank)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under xdist, a test (with the setup and teardown of its fixtures, module and session ones included) holds
    a shared lock of the run; an `exclusive` test holds the lock alone."""
    if not WORKER:
        return (yield)
    exclusive = item.get_closest_marker("exclusive") is not None
    lock = Path(tempfile.gettempdir()) / f"smartgrid-tests-{os.environ['PYTEST_XDIST_TESTRUNUID']}.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            return (yield)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
