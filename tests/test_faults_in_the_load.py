"""Faults the load meets on its own, against the real server: the source is unreachable or missing (one clear
line naming the setting, no retry storm), a statement times out, the disk is "full". Raw is left unchanged and
the next load completes it: each source row exactly once (contract §2).

Marker `faults`: `pytest -m faults` runs only these; `make test` runs them with the rest."""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg2
import pytest

from orchestration.db.connection_check import DatabaseUnreachable
from orchestration.steps.loader import load_raw
from tests.helpers import ONE_DAY_START, assert_raw_holds_each_source_row_once, query, raw_snapshot
from tests.test_alerts_automation import raw_count

pytestmark = [pytest.mark.slow, pytest.mark.faults]
START = ONE_DAY_START


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
