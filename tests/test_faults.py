"""Fault injection against the real server: the warehouse restarts mid-load and mid-build, the flow process
is killed inside the load, between steps and during the checkpoint. Afterwards contract §2 and §5 hold: raw holds
each source row exactly once and, after the next run, the marts equal the contract over raw (tests/reference.py).
The faults a load meets on its own (a refusing source, a timeout, a full disk): tests/test_faults_in_the_load.py.

Marker `faults`: `pytest -m faults` runs only these; `make test` runs them with the rest."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from datetime import timedelta

import psycopg2
import pytest

from orchestration.local.simulator import simulate
from orchestration.steps import loader
from orchestration.steps.loader import load_raw
from tests.helpers import (
    ONE_DAY_FLEET,
    ONE_DAY_START,
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
    cli_run,
    harness_env,
    query,
    raw_snapshot,
    scalar,
)

pytestmark = [pytest.mark.slow, pytest.mark.faults]
START = ONE_DAY_START
SMALL = ONE_DAY_FLEET


def restart_warehouse_server(settings) -> None:
    """`pg_ctl restart` of the server the tests use (the embedded one); every session on it is cut."""
    from orchestration.local.postgres import _pgserver_system_user

    if not settings.embedded:
        pytest.skip("restarts only the embedded PostgreSQL (POSTGRES_HOST is set)")
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=settings.pgdata, user=_pgserver_system_user())


# --- the warehouse restarts ------------------------------------------------------------------------------


def test_the_warehouse_restarts_in_the_middle_of_a_load(settings, one_day, monkeypatch, caplog):
    warehouse, source = one_day
    real_stream_copy, calls = loader.stream_copy, []

    def restart_during_the_copy(*args):
        calls.append(1)
        if len(calls) == 1:  # the first table's copy: its rows are half-way into the load's transaction
            restart_warehouse_server(settings)
        return real_stream_copy(*args)

    monkeypatch.setattr(loader, "stream_copy", restart_during_the_copy)
    # the cut load fails with a connection error (the flow's load task retries such errors with backoff) ...
    with pytest.raises(psycopg2.OperationalError):
        load_raw(warehouse, source, START, START + timedelta(days=1))
    # ... and the next attempt leaves raw exactly as an undisturbed load would
    result = load_raw(warehouse, source, START, START + timedelta(days=1))
    assert len(calls) >= 3  # the cut attempt, then both tables again
    assert sum(len(rows) for rows in raw_snapshot(warehouse).values()) == scalar(
        source, "select (select count(*) from sensor_data) + (select count(*) from meter_readings)"
    )
    assert result.rows_loaded > 0
    assert_raw_holds_each_source_row_once(warehouse, source)


def test_the_warehouse_restarts_in_the_middle_of_dbt_build(settings, one_day, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = one_day
    restarted = threading.Event()

    def restart_once_dbt_builds():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if scalar(warehouse, "select count(*) from pg_stat_activity where application_name = 'dbt'"):
                time.sleep(1)
                restart_warehouse_server(settings)
                restarted.set()
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=restart_once_dbt_builds, daemon=True)
    watcher.start()
    first = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(days=1), return_state=True)
    watcher.join(timeout=180)
    assert restarted.is_set()
    if first.is_failed():  # failed cleanly: dbt's error is the message
        assert "dbt" in str(first.message).lower() or "connection" in str(first.message).lower(), first.message
    # the next run completes whatever the cut build left, and equals an undisturbed run: the contract over raw
    second = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(days=1))
    assert second.dbt.success and second.checkpoint.success
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)


# --- the flow process is killed ---------------------------------------------------------------------------


def _kill_when_blocked(warehouse, process, application: str, database) -> None:
    """SIGKILL the flow process once its `application` session waits on a lock the test holds."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        if scalar(
            database,
            "select count(*) from pg_stat_activity where application_name = %s and wait_event_type = 'Lock'",
            (application,),
        ):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        time.sleep(0.1)
    raise AssertionError(f"no {application} session ever waited")


def test_the_flow_process_killed_inside_the_load_between_steps_and_during_the_checkpoint(one_day, prefect_api):
    from orchestration.steps.gx_project import WINDOW_TABLE

    warehouse, source = one_day
    env = harness_env()
    day2 = START + timedelta(days=1)
    first = subprocess.run(cli_run(START, day2), env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]

    # each time, new source rows (a new hour plus late rows for old hours) and a lock the test holds, on which
    # the run blocks at the point to kill it
    scenarios = [
        ("inside the load", source, "meter_readings", "smartgrid-loader"),
        ("between load and dbt", warehouse, "audit.mart_backup", "smartgrid-mart-backup"),
        ("during the checkpoint", warehouse, WINDOW_TABLE, "smartgrid-quality"),
    ]
    for number, (where, database, table, application) in enumerate(scenarios):
        hour = day2 + timedelta(hours=number)
        simulate(source, hour, hour + timedelta(hours=1), SMALL, now=START + timedelta(days=2))
        query(source, f"update meter_readings set created_at = created_at where id % 50 = {number}; select 1")
        before = raw_snapshot(warehouse)
        holder = psycopg2.connect(**database.connect_kwargs(), application_name="test-lock-holder")
        try:
            holder.cursor().execute(f"lock table {table} in access exclusive mode")
            process = subprocess.Popen(
                cli_run(hour, hour + timedelta(hours=1)),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _kill_when_blocked(warehouse, process, application, database)
        finally:
            holder.rollback()
            holder.close()
        after = raw_snapshot(warehouse)
        if where == "inside the load":
            # the meter table's transaction never committed (each table loads in its own)
            assert after["meter_readings"] == before["meter_readings"], where
        else:
            assert after != before and all(set(before[t]) <= set(after[t]) for t in before), where
        for table_name, rows in after.items():
            assert len(rows) == len(set(rows)), (where, table_name)  # never a row twice

    last = day2 + timedelta(hours=len(scenarios))
    again = subprocess.run(cli_run(START, last) + ["--json"], env=env, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["success"]
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)


# --- the source refuses: one clear line, no retry storm ---------------------------------------------------
