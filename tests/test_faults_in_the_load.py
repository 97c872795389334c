"""Faults the load meets on its own, against the real server: the source is unreachable or missing (one clear
line naming the setting; Prefect retries only what waiting can fix), a statement times out in the load's session,
the filesystem under raw is really full. Raw is left unchanged and the next load completes it: each source row
exactly once (contract §2).

Marker `faults`: `pytest -m faults` runs only these; `make test` runs them with the rest."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta

import psycopg2
import pytest

from orchestration.db.connection_check import DatabaseUnreachable
from orchestration.steps.loader import load_raw
from tests.helpers import ONE_DAY_START, assert_raw_holds_each_source_row_once, query, raw_snapshot, scalar

pytestmark = [pytest.mark.slow, pytest.mark.faults]
START = ONE_DAY_START
DAY = START + timedelta(days=1)


# --- the source refuses: one clear line; Prefect retries only what waiting can fix ----------------------


def _run_count(state, wait_seconds: float = 60) -> int:
    """How many times the task ran, as the server recorded it. Task runs reach the server through events, so on a
    busy machine the run may not be there yet when the task returns: wait until it is there and final."""
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + wait_seconds
    with get_client(sync_client=True) as client:
        while True:
            with suppress(ObjectNotFound):
                run = client.read_task_run(state.state_details.task_run_id)
                if run.state is not None and run.state.is_final():
                    return run.run_count
            assert time.monotonic() < deadline, "the task run never reached the Prefect server as final"
            time.sleep(0.2)


def test_an_unreachable_source_is_named_with_its_setting_and_retried_a_missing_one_is_not(one_day, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import load_raw_task

    warehouse, source = one_day
    # the task as the flow runs it (its retry condition included), with one quick retry instead of 2 + 4 + 8 + 16 s
    task = load_raw_task.with_options(retries=1, retry_delay_seconds=0, retry_jitter_factor=None)
    nowhere = replace(source, host="127.0.0.1", port=1)
    state = task(warehouse, nowhere, START, START + timedelta(hours=1), 24, False, return_state=True)
    with pytest.raises(DatabaseUnreachable) as error:
        state.result()
    message = str(error.value)
    assert "\n" not in message and message.startswith("cannot connect to the source database smartgrid_test_source")
    assert "check SOURCE_POSTGRES_HOST, SOURCE_POSTGRES_PORT" in message and "did not answer" in message
    assert _run_count(state) == 2  # waiting may fix a refused connection: retried
    # a missing database: waiting cannot fix it, so it fails at once, without a retry
    state = task(warehouse, replace(source, dbname="no_such_db"), START, DAY, 24, False, return_state=True)
    with pytest.raises(DatabaseUnreachable, match="check SOURCE_POSTGRES_DB") as error:
        state.result()
    assert "retrying cannot fix this" in str(error.value)
    assert _run_count(state) == 1  # no retry (and so none of the 2 + 4 + 8 + 16 s of waiting)
    assert raw_snapshot(warehouse) == {"sensor_data": [], "meter_readings": []}  # nothing written


# --- a statement timeout or a full disk during the load ---------------------------------------------------

TIMEOUT_ROLE = "smartgrid_test_timeout"
# the load's session (and no other) has a 1.5 s statement timeout; the rows it inserts are counted (a sequence is
# not rolled back), and its last statement, the row in raw.load_log, takes 3 s, so it is cancelled with the
# table's rows already inserted in the same transaction
TIMEOUT_SETUP = f"""
do $$ begin create role {TIMEOUT_ROLE} login superuser; exception when duplicate_object then null; end $$;
alter role {TIMEOUT_ROLE} set statement_timeout = '1500ms';
create sequence public.fault_inserted;
create function public.fault_count_row() returns trigger language plpgsql as $$
begin perform nextval('public.fault_inserted'); return new; end $$;
create trigger fault_count_row before insert on raw.meter_readings
    for each row execute function public.fault_count_row();
create function public.fault_slow_log() returns trigger language plpgsql as $$
begin perform pg_sleep(3); return new; end $$;
create trigger fault_slow_log before insert on raw.load_log for each row execute function public.fault_slow_log();
select 1
"""


def test_a_statement_timeout_in_the_loads_session_leaves_raw_unchanged(one_day):
    warehouse, source = one_day
    load_raw(warehouse, source, START, START + timedelta(hours=6))
    before = raw_snapshot(warehouse)
    query(warehouse, TIMEOUT_SETUP)
    new_meter_rows = scalar(source, "select count(*) from meter_readings where timestamp >= %s",
                            (START + timedelta(hours=6),))  # fmt: skip
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled, match="canceling statement due to statement timeout"):
            load_raw(replace(warehouse, user=TIMEOUT_ROLE, password=None), source, START, DAY)
    finally:
        query(warehouse, f"drop role {TIMEOUT_ROLE}; select 1")  # a superuser login: not left on the server
    # the load had begun: every new meter row was inserted into raw before the timeout hit its last statement
    assert scalar(warehouse, "select last_value from fault_inserted") == new_meter_rows > 0
    assert scalar(warehouse, "show statement_timeout") == "0"  # the test's own session has no timeout
    assert raw_snapshot(warehouse) == before  # both tables' transactions rolled back
    query(warehouse, "drop trigger fault_slow_log on raw.load_log; select 1")
    load_raw(warehouse, source, START, DAY)
    assert_raw_holds_each_source_row_once(warehouse, source)


FULL_DISK_KB = 256


def _autocommit(target, statement: str) -> None:
    """Tablespace DDL cannot run inside a transaction block."""
    conn = psycopg2.connect(**target.connect_kwargs())
    try:
        conn.autocommit = True
        conn.cursor().execute(statement)
    finally:
        conn.close()


@pytest.fixture
def tiny_tablespace(settings, warehouse):
    """A tablespace on a 256 kB tmpfs: a real filesystem that fills up. Skipped where it cannot be mounted."""
    if not settings.embedded or os.geteuid() != 0:
        pytest.skip("a full disk needs the embedded server and root to mount a tmpfs; not simulated instead")
    from orchestration.local.postgres import _pgserver_system_user

    owner = _pgserver_system_user()
    path = f"/tmp/smartgrid-full-disk-{os.getpid()}"
    os.makedirs(path, exist_ok=True)
    options = f"size={FULL_DISK_KB}k,mode=0700" + (f",uid={owner},gid={owner}" if owner else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path], capture_output=True, text=True)
    if mounted.returncode != 0:
        os.rmdir(path)
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); not simulated instead")
    try:
        _autocommit(warehouse, f"create tablespace fault_tiny location '{path}'")
        yield "fault_tiny"
    finally:
        query(warehouse, "alter table if exists raw.meter_readings set tablespace pg_default; select 1")
        _autocommit(warehouse, "drop tablespace if exists fault_tiny")
        # a server process may still hold a file of it open: detach lazily then, it goes when the file is closed
        if subprocess.run(["umount", path], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", path], check=True)
        os.rmdir(path)


def test_a_full_disk_during_the_load_leaves_raw_unchanged_with_a_clear_error(one_day, tiny_tablespace):
    warehouse, source = one_day
    load_raw(warehouse, source, START, START + timedelta(hours=6))
    before = raw_snapshot(warehouse)
    # raw.meter_readings moves onto the 256 kB filesystem; 4,000 more source rows (~500 kB) cannot fit there
    query(warehouse, f"alter table raw.meter_readings set tablespace {tiny_tablespace}; select 1")
    query(
        source,
        "insert into meter_readings (event_id, meter_id, customer_id, reading, unit, timestamp, created_at) "
        "select 'bulk-' || n, 'MB' || n %% 40, 'CB', n, 'kWh', %s + n * interval '10 seconds', %s "
        "from generate_series(1, 4000) n; select 1",
        (START + timedelta(hours=7), DAY),
    )
    with pytest.raises(psycopg2.errors.DiskFull, match="could not extend file .*No space left on device"):
        load_raw(warehouse, source, START, DAY)
    # each table loads in its own transaction: the one whose disk filled is unchanged, the other all or nothing
    after = raw_snapshot(warehouse)
    assert after["meter_readings"] == before["meter_readings"]
    assert after["sensor_data"] in (before["sensor_data"], query(source, "select event_id from sensor_data order by 1"))
    # room again: the next load completes raw
    query(warehouse, "alter table raw.meter_readings set tablespace pg_default; select 1")
    load_raw(warehouse, source, START, DAY)
    assert_raw_holds_each_source_row_once(warehouse, source)
