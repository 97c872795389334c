"""Fault injection against the real server: the warehouse restarts mid-load and mid-build, the flow process
is killed inside the load, between steps and during the checkpoint, the source is unreachable or refuses the
password, a statement times out or the disk is "full". Afterwards contract §2 and §5 hold: raw holds each source
row exactly once and, after the next run, the marts equal the contract over raw (tests/reference.py).

Marker `faults`: `pytest -m faults` runs only these; `make test` runs them with the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import psycopg2
import pytest

from orchestration.db.connection_check import DatabaseUnreachable
from orchestration.local.simulator import SimulationConfig, simulate
from orchestration.steps import loader
from orchestration.steps.loader import load_raw
from tests.helpers import (
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
    query,
    scalar,
)
from tests.test_alerts_automation import raw_count

pytestmark = [pytest.mark.slow, pytest.mark.faults]
START = datetime(2026, 4, 13)  # a Monday
SMALL = SimulationConfig(meters=3, sensors=1, seed=41, defect_rate=0.03)


def restart_warehouse_server(settings) -> None:
    """`pg_ctl restart` of the server the tests use (the embedded one); every session on it is cut."""
    from orchestration.local.postgres import _pgserver_system_user

    if not settings.embedded:
        pytest.skip("restarts only the embedded PostgreSQL (POSTGRES_HOST is set)")
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=settings.pgdata, user=_pgserver_system_user())


@pytest.fixture
def one_day(fresh_databases):
    warehouse, source = fresh_databases
    simulate(source, START, START + timedelta(days=1), SMALL, now=START + timedelta(days=2))
    return warehouse, source


def raw_snapshot(warehouse) -> dict[str, list]:
    return {t: query(warehouse, f"select event_id from raw.{t} order by 1") for t in loader.SOURCE_COLUMNS}


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


def _cli_run(env, start, end):
    return [sys.executable, "-m", "orchestration.cli", "run", "--start", start.isoformat(), "--end", end.isoformat()]


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
    from prefect.settings import PREFECT_API_URL

    from orchestration.steps.gx_project import WINDOW_TABLE

    warehouse, source = one_day
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    day2 = START + timedelta(days=1)
    first = subprocess.run(_cli_run(env, START, day2), env=env, capture_output=True, text=True, timeout=600)
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
                _cli_run(env, hour, hour + timedelta(hours=1)),
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
    again = subprocess.run(_cli_run(env, START, last) + ["--json"], env=env, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["success"]
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)


# --- the source refuses: one clear line, no retry storm ---------------------------------------------------


def test_an_unreachable_source_is_named_with_its_setting(one_day, caplog):
    from dataclasses import replace

    from orchestration.flows.smartgrid_etl_flow import load_raw_task

    warehouse, source = one_day
    nowhere = replace(source, host="127.0.0.1", port=1)
    with pytest.raises(DatabaseUnreachable) as error:
        load_raw_task.fn(warehouse, nowhere, START, START + timedelta(hours=1), 24, False)
    message = str(error.value)
    assert "\n" not in message and message.startswith("cannot connect to the source database smartgrid_test_source")
    assert "check SOURCE_POSTGRES_HOST, SOURCE_POSTGRES_PORT" in message and "did not answer" in message
    # a missing database: waiting cannot fix it, so it fails at once
    caplog.clear()
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable, match="check SOURCE_POSTGRES_DB") as error:
        load_raw_task.fn(warehouse, replace(source, dbname="no_such_db"), START, START + timedelta(hours=1), 24, False)
    assert time.monotonic() - started < 5 and "retrying" not in caplog.text
    assert "retrying cannot fix this" in str(error.value)
    assert raw_count(warehouse, "sensor_data") == raw_count(warehouse, "meter_readings") == 0  # nothing written


# --- a statement timeout or a full disk during the load ---------------------------------------------------


def test_a_statement_timeout_during_the_load_leaves_raw_unchanged(one_day):
    warehouse, source = one_day
    load_raw(warehouse, source, START, START + timedelta(hours=6))
    before = raw_snapshot(warehouse)
    # every statement of the warehouse's sessions may take 1 ms: the load's insert cannot finish
    query(warehouse, f"alter database {warehouse.dbname} set statement_timeout = '1ms'; select 1")
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"):
            load_raw(warehouse, source, START, START + timedelta(days=1))
    finally:
        query(warehouse, f"alter database {warehouse.dbname} reset statement_timeout; select 1")
    assert raw_snapshot(warehouse) == before
    load_raw(warehouse, source, START, START + timedelta(days=1))
    assert_raw_holds_each_source_row_once(warehouse, source)


def test_a_full_disk_during_the_load_leaves_raw_unchanged_with_a_clear_error(one_day):
    warehouse, source = one_day
    load_raw(warehouse, source, START, START + timedelta(hours=6))
    before = raw_snapshot(warehouse)
    # the disk fills up half-way: the 100th new meter row's insert fails as PostgreSQL reports ENOSPC
    query(
        warehouse,
        """
        create function raw.disk_full() returns trigger language plpgsql as $$
        begin
            if (select count(*) from raw.meter_readings where _load_id = new._load_id) >= 100 then
                raise exception 'could not extend file "base/16384/24576": No space left on device'
                    using errcode = 'disk_full', hint = 'Check free disk space.';
            end if;
            return new;
        end $$;
        create trigger disk_full before insert on raw.meter_readings for each row execute function raw.disk_full();
        select 1
        """,
    )
    with pytest.raises(psycopg2.errors.DiskFull, match="No space left on device"):
        load_raw(warehouse, source, START, START + timedelta(days=1))
    # each table loads in its own transaction: the one whose disk filled is unchanged, none holds a row twice
    after = raw_snapshot(warehouse)
    assert after["meter_readings"] == before["meter_readings"]
    assert set(before["sensor_data"]) <= set(after["sensor_data"]) and len(set(after["sensor_data"])) == len(
        after["sensor_data"]
    )
    query(warehouse, "drop trigger disk_full on raw.meter_readings; drop function raw.disk_full(); select 1")
    load_raw(warehouse, source, START, START + timedelta(days=1))
    assert_raw_holds_each_source_row_once(warehouse, source)
