"""The raw load (docs/data-contract.md §2): exactly once, nothing skipped, values unchanged, all-or-nothing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import psycopg2
import pytest

from orchestration.settings import DbTarget
from orchestration.steps import copy_rows
from orchestration.steps.loader import SourceSchemaError, load_raw
from orchestration.steps.reconcile import hour_ranges
from orchestration.steps.retention import cleanup_raw
from tests.helpers import at, insert_meter_rows, insert_sensor_rows, query, scalar
from tests.loader_rows import meter, raw_event_ids, sensor


def scalar_in(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def test_hour_ranges_merges_consecutive_hours():
    hours = [3 * 3600.0, 1 * 3600.0, 2 * 3600.0, 5 * 3600.0]  # hour starts as epoch seconds
    assert hour_ranges(hours) == [(3600.0, 4 * 3600.0), (5 * 3600.0, 6 * 3600.0)]


def test_loads_every_row_before_the_end_and_nothing_after(fresh_databases):
    warehouse, source = fresh_databases
    insert_sensor_rows(source, [sensor("a", "08:59"), sensor("b", "09:30"), sensor("c", "10:00")])
    insert_meter_rows(source, [meter("m-a", "09:45"), meter("m-b", "10:15")])
    result = load_raw(warehouse, source, at("09:00"), at("10:00"))
    assert raw_event_ids(warehouse, "sensor_data") == ["a", "b"]  # 08:59 is before the window: loaded too
    assert raw_event_ids(warehouse, "meter_readings") == ["m-a"]
    assert result.tables["sensor_data"].window_rows == 1  # only b lies inside [09:00, 10:00)
    assert (result.rows_loaded, result.window_is_empty) == (3, False)


def test_values_are_loaded_unchanged(fresh_databases):
    warehouse, source = fresh_databases
    insert_sensor_rows(
        source,
        [
            sensor("nan", "09:01", value="NaN", latitude=42.6629123, longitude=21.1655001, metadata={"fw": "2.3"}),
            sensor("neg", "09:02", value=-12.3456, sensor_type="power"),
        ],
    )
    insert_meter_rows(
        source, [meter("wh", "09:15", reading=12345678.1234, unit="Wh"), meter("null-unit", "09:30", unit=None)]
    )
    load_raw(warehouse, source, at("09:00"), at("10:00"))
    sensor_columns = (
        'id, event_id, sensor_id, sensor_type, value::text, latitude, longitude, "timestamp", metadata, created_at'
    )
    meter_columns = 'id, event_id, meter_id, customer_id, reading, unit, "timestamp", created_at'
    for table, columns in (("sensor_data", sensor_columns), ("meter_readings", meter_columns)):
        assert query(warehouse, f"select {columns} from raw.{table} order by id") == query(
            source, f"select {columns} from {table} order by id"
        )
    assert scalar(warehouse, "select unit is null from raw.meter_readings where event_id = 'null-unit'")


def test_repeated_and_overlapping_loads_keep_each_row_once(fresh_databases):
    warehouse, source = fresh_databases
    insert_sensor_rows(source, [sensor(f"s{i}", f"0{i}:10") for i in range(1, 6)])
    load_raw(warehouse, source, at("01:00"), at("04:00"))
    load_raw(warehouse, source, at("02:00"), at("06:00"))  # overlaps the first
    again = load_raw(warehouse, source, at("01:00"), at("06:00"))
    assert again.rows_loaded == 0 and again.tables["sensor_data"].hours_copied == 0
    assert raw_event_ids(warehouse, "sensor_data") == ["s1", "s2", "s3", "s4", "s5"]


def test_rows_arriving_late_and_out_of_id_order_are_found(fresh_databases):
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("m1", "01:00", id=100), meter("m2", "05:00", id=101)])
    load_raw(warehouse, source, at("05:00"), at("06:00"))
    # committed later, but with a smaller id and an older created_at than what raw already holds, for an hour
    # inside the reconciliation horizon (the 3 hours before the window's end): found by its hour's fingerprint
    insert_meter_rows(source, [meter("m-late", "04:15", id=7, created_at=at("04:16"))])
    result = load_raw(warehouse, source, at("06:00"), at("07:00"))
    assert result.rows_loaded == 1 and result.tables["meter_readings"].changed_hours == [at("04:00").isoformat()]
    assert result.tables["meter_readings"].reconciled_from == at("04:00").isoformat()
    # a row for an hour days before the horizon, with a new id (a meter delivering its backlog): found by id
    insert_meter_rows(source, [meter("m-backlog", "-3 01:15", id=200)])
    assert load_raw(warehouse, source, at("07:00"), at("08:00")).rows_loaded == 1
    # older than the horizon *and* with an id below what raw already saw: only a full reconciliation finds it
    insert_meter_rows(source, [meter("m-out-of-order", "01:30", id=8)])
    assert load_raw(warehouse, source, at("08:00"), at("09:00")).rows_loaded == 0
    assert load_raw(warehouse, source, at("08:00"), at("09:00"), full_reconcile=True).rows_loaded == 1
    assert raw_event_ids(warehouse, "meter_readings") == ["m-backlog", "m-late", "m-out-of-order", "m1", "m2"]


def test_concurrent_loads_do_not_double_rows(fresh_databases):
    warehouse, source = fresh_databases
    insert_sensor_rows(source, [sensor(f"s{i:03d}", f"{i // 60:02d}:{i % 60:02d}") for i in range(600)])
    errors = []

    def run():
        try:
            load_raw(warehouse, source, at("00:00"), at("10:00"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert scalar(warehouse, "select count(*) from raw.sensor_data") == 600
    assert scalar(warehouse, "select count(distinct _load_id) from raw.sensor_data") == 1


def test_a_load_that_fails_half_way_leaves_raw_as_it_was(fresh_databases, monkeypatch):
    warehouse, source = fresh_databases
    insert_sensor_rows(source, [sensor("before", "01:00")])
    load_raw(warehouse, source, at("01:00"), at("02:00"))
    insert_sensor_rows(source, [sensor("new-sensor", "02:00")])
    insert_meter_rows(source, [meter("new-meter", "02:00"), meter("new-meter-2", "02:15")])
    real_stream_copy = copy_rows.stream_copy

    def dies_on_the_meter_table(src_cur, copy_out, dst_cur, copy_in):
        copied = real_stream_copy(src_cur, copy_out, dst_cur, copy_in)
        if "meter_readings" in copy_out:  # the new meter rows are in raw, uncommitted, when it dies
            assert scalar_in(dst_cur, "select count(*) from raw.meter_readings") == 2
            raise psycopg2.errors.QueryCanceled("terminated half-way")
        return copied

    monkeypatch.setattr(copy_rows, "stream_copy", dies_on_the_meter_table)
    with pytest.raises(psycopg2.errors.QueryCanceled):
        load_raw(warehouse, source, at("02:00"), at("03:00"))
    # each table loads in its own transaction: the meter table is as it was, the sensor table complete
    assert raw_event_ids(warehouse, "meter_readings") == []
    assert raw_event_ids(warehouse, "sensor_data") == ["before", "new-sensor"]
    assert scalar(warehouse, "select count(*) from raw.load_log where table_name = 'meter_readings'") == 1
    monkeypatch.setattr(copy_rows, "stream_copy", real_stream_copy)
    assert load_raw(warehouse, source, at("02:00"), at("03:00")).rows_loaded == 2
    assert raw_event_ids(warehouse, "meter_readings") == ["new-meter", "new-meter-2"]


def test_a_source_that_fails_mid_copy_leaves_raw_unchanged(fresh_databases):
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("first", "00:30")])
    load_raw(warehouse, source, at("00:00"), at("01:00"))
    # 4,000 more rows (~400 kB binary, more than the 256 kB the COPY reader writes at a time, so thousands reach
    # the warehouse's COPY); the source's COPY fails at the 3,500th
    query(
        source,
        "insert into meter_readings (event_id, meter_id, customer_id, reading, unit, timestamp, created_at) "
        "select 'bulk-' || n, 'MB', 'CB', n, 'kWh', %s + n * interval '1 second', %s from generate_series(1, 4000) n;"
        "alter table meter_readings rename to meter_readings_table;"
        "create function fails_at(row_id bigint, bad bigint) returns boolean language plpgsql as $$"
        " begin if current_query() ilike 'copy%%' and row_id = bad then raise exception 'source failed mid-copy';"
        " end if; return true; end $$;"
        "create view meter_readings as select * from meter_readings_table"
        " where fails_at(id, (select min(id) + 3500 from meter_readings_table)); select 1",
        (at("01:00"), at("02:00")),
    )
    with pytest.raises(psycopg2.errors.RaiseException, match="source failed mid-copy"):
        load_raw(warehouse, source, at("01:00"), at("03:00"))
    assert raw_event_ids(warehouse, "meter_readings") == ["first"]  # none of the thousands streamed before
    query(source, "create or replace function fails_at(row_id bigint, bad bigint) returns boolean language sql as "
                  "$$ select true $$; select 1")  # fmt: skip
    assert load_raw(warehouse, source, at("01:00"), at("03:00")).rows_loaded == 4000
    assert scalar(warehouse, "select count(*) from raw.meter_readings") == 4001


def test_connection_errors_are_retried_with_backoff_by_prefect():
    from types import SimpleNamespace

    from orchestration.flows.smartgrid_etl_flow import load_raw_task, retry_on_connection_errors

    assert load_raw_task.retries == 4 and load_raw_task.retry_delay_seconds == [2, 4, 8, 16]
    assert load_raw_task.retry_jitter_factor == 1  # delays vary around those, so retries of many runs spread out

    def retried(exc) -> bool:
        return retry_on_connection_errors(None, None, SimpleNamespace(result=lambda raise_on_failure: exc))

    assert retried(psycopg2.OperationalError("connection refused"))
    # waiting cannot fix a wrong password or database, nor a bug
    assert not retried(psycopg2.OperationalError('password authentication failed for user "x"'))
    assert not retried(psycopg2.OperationalError('database "x" does not exist'))
    assert not retried(ValueError("bug"))


def test_an_unreachable_source_fails_with_a_clear_error(fresh_databases):
    warehouse, _ = fresh_databases
    nowhere = DbTarget("127.0.0.1", 1, "smartgrid_source", "postgres")
    with pytest.raises(psycopg2.OperationalError, match="127.0.0.1"):
        load_raw(warehouse, nowhere, at("01:00"), at("02:00"))


def test_a_source_without_the_contract_tables_is_named(fresh_databases, source):
    warehouse, _ = fresh_databases
    query(source, "drop table meter_readings; select 1")
    with pytest.raises(SourceSchemaError, match="meter_readings"):
        load_raw(warehouse, source, at("01:00"), at("02:00"))


def test_retention_deletes_old_raw_rows_only_and_never_reloads_them(fresh_databases):
    warehouse, source = fresh_databases
    now = datetime(2026, 6, 20, 12)
    old, recent = now - timedelta(days=100), now - timedelta(days=10)
    insert_sensor_rows(
        source,
        [
            {"event_id": "old", "sensor_id": "S1", "sensor_type": "voltage", "value": 230, "timestamp": old},
            {"event_id": "recent", "sensor_id": "S1", "sensor_type": "voltage", "value": 230, "timestamp": recent},
        ],
    )
    load_raw(warehouse, source, now - timedelta(hours=1), now)
    result = cleanup_raw(warehouse, now, retention_days=90)
    assert result.rows_deleted == {"sensor_data": 1, "meter_readings": 0}
    assert raw_event_ids(warehouse, "sensor_data") == ["recent"]
    assert scalar(source, "select count(*) from sensor_data") == 2  # the source is never touched
    assert load_raw(warehouse, source, now - timedelta(hours=1), now).rows_loaded == 0
