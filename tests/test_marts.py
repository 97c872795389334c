"""The marts over time on the hand-worked dataset (tests/marts_dataset.py): late rows rebuild exactly the hours
they change, as a full rebuild would; running again changes nothing; the session time zone moves no hour.

All times are on 2026-03-10, UTC.
"""

from __future__ import annotations

import os

import psycopg2
import pytest

from orchestration.steps.loader import load_raw
from tests.helpers import (
    at,
    build,
    d,
    edited_project,
    insert_meter_rows,
    insert_sensor_rows,
    mart_rows,
    query,
    scalar,
)
from tests.marts_dataset import END, INITIAL_METER_HOURS, METER_ROWS, SENSOR_ROWS, h, meter_hour

pytestmark = pytest.mark.slow


def not_null_columns(warehouse, table: str) -> set[str]:
    """The columns of `table` (schema.name) that are NOT NULL in the warehouse."""
    rows = query(warehouse, "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 "
                 "and attnotnull", (table,))  # fmt: skip
    return {name for (name,) in rows}


def test_late_rows_rebuild_old_hours_on_both_sides(settings, marts_built):
    warehouse, source = marts_built
    insert_meter_rows(
        source,
        [
            # a late reading inside M1's gap changes hours 10, 11 and 12:
            #   [10:45,11:15) +2.0 over 30 min: 1.0 (h10), 1.0 (h11); [11:15,12:15) +1.0: 0.75 (h11), 0.25 (h12)
            {
                "event_id": "m1-1115-late",
                "meter_id": "M1",
                "customer_id": "C1",
                "reading": 102.0,
                "timestamp": at("11:15"),
                "created_at": at("+1 09:00"),
            },
            # a later reading names a new customer for M1 (a move-in): +0.25 measured in h12. An hour belongs to the
            # customer on the closing reading of its last interval (contract §4): h12's last interval [12:30,12:45)
            # closes with C9; h10's ([10:45,11:15)) and h11's ([11:15,12:15)) close with C1, so they stay C1's
            {
                "event_id": "m1-1245-late",
                "meter_id": "M1",
                "customer_id": "C9",
                "reading": 103.5,
                "timestamp": at("12:45"),
                "created_at": at("+1 09:00"),
            },
        ],
    )
    # 236 joins hour 10's voltage: 230, 232, 234, 236 -> mean 233, sample stddev sqrt(20/3) = 2.581989
    insert_sensor_rows(
        source,
        [
            {
                "event_id": "v-late",
                "sensor_id": "S1",
                "sensor_type": "voltage",
                "value": 236,
                "timestamp": at("10:10"),
                "created_at": at("+1 09:00"),
            }
        ],
    )
    load = load_raw(warehouse, source, at("+1 09:00"), at("+1 10:00"))
    assert load.rows_loaded == 3
    build(settings, warehouse)

    expected_meter_hours = {
        **INITIAL_METER_HOURS,
        **dict(
            [
                meter_hour("M1", "C1", "10:00", "1.5", "1.0", 2, 9),
                meter_hour("M1", "C1", "11:00", "1.75", "1.75", 1, 9),
                meter_hour("M1", "C9", "12:00", "0.75", "0.25", 3, 9),
            ]
        ),
    }
    assert mart_rows(warehouse, "fct_meter_consumption_hourly") == expected_meter_hours
    voltage = mart_rows(warehouse, "fct_sensor_hourly")[("S1", "voltage", h("10:00"))]
    assert (voltage["reading_count"], voltage["avg_value"], voltage["max_value"], voltage["stddev_value"]) == (
        4,
        d("233"),
        d("236"),
        d("2.581989"),
    )
    day = at("00:00").date()
    daily = mart_rows(warehouse, "fct_customer_consumption_daily")
    assert {k: (v["consumption_kwh"], v["estimated_kwh"], v["meter_count"]) for k, v in daily.items()} == {
        ("C1", day): (d("5.25"), d("2.75"), 2),  # M3's 2.0, and M1's hours 10 (1.5, 1.0 est.) and 11 (1.75, 1.75)
        ("C9", day): (d("0.75"), d("0.25"), 1),  # M1's hour 12; with C1's 3.25 from M1: 103.5 - 99.5
        ("C2", day): (d("4.5"), d("3.0"), 1),
    }

    # the incremental result equals a rebuild of everything from raw
    incremental = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    build(settings, warehouse, "--full-refresh")
    assert {m: mart_rows(warehouse, m) for m in incremental} == incremental


def test_rerunning_changes_nothing(settings, marts_built):
    warehouse, source = marts_built
    before = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    raw_before = scalar(warehouse, "select count(*) from raw.meter_readings") + scalar(
        warehouse, "select count(*) from raw.sensor_data"
    )
    assert load_raw(warehouse, source, at("10:00"), END).rows_loaded == 0
    build(settings, warehouse)
    assert {m: mart_rows(warehouse, m) for m in before} == before
    assert raw_before == len(SENSOR_ROWS) + len(METER_ROWS)


def test_a_mart_built_before_its_not_null_constraints_gets_them_and_refuses_a_null(settings, marts_built):
    """The marts' columns other than their key are NOT NULL in the table (a constraint in the yml), not a
    not_null test node each in every hourly build. dbt writes a contract's constraints only into the DDL that
    creates a table, so a mart created before the yml declared them gets them at its next build."""
    warehouse, _ = marts_built
    mart = "marts.fct_meter_consumption_hourly"
    assert "estimated_kwh" in not_null_columns(warehouse, mart)  # created with the constraint
    query(warehouse, f"alter table {mart} alter column estimated_kwh drop not null; select 1")  # as before
    assert "estimated_kwh" not in not_null_columns(warehouse, mart)
    build(settings, warehouse)
    assert "estimated_kwh" in not_null_columns(warehouse, mart)
    with pytest.raises(psycopg2.errors.NotNullViolation):
        query(warehouse, f"update {mart} set estimated_kwh = null where meter_id = 'M1'; select 1")


def test_the_intermediate_tables_hold_their_declared_not_null_columns_and_refuse_a_null(marts_built):
    """The incremental intermediate tables have no contract, so dbt writes no constraint into their DDL: the
    post-hook sets the NOT NULL their yml declares (macros/enforce_not_null_constraints.sql), in place of a
    not_null test node each in every hourly build."""
    warehouse, _ = marts_built
    declared = {  # as in models/intermediate/readings and validated/*.yml
        "int_sensor_readings_validated": {"event_id", "hour_start"},
        "int_meter_readings_validated": {"event_id", "hour_start"},
        "int_meter_intervals": {"meter_id", "ended_at"},
        "int_meter_interval_hours": {"meter_id", "hour_start", "energy_kwh"},
    }
    for table, columns in declared.items():
        assert columns <= not_null_columns(warehouse, f"intermediate.{table}"), table
    parts = "intermediate.int_meter_interval_hours"
    assert scalar(warehouse, f"select count(*) from {parts} where meter_id = 'M1'") > 0
    with pytest.raises(psycopg2.errors.NotNullViolation):
        query(warehouse, f"update {parts} set energy_kwh = null where meter_id = 'M1'; select 1")


def test_every_mart_key_is_a_unique_index_on_not_null_columns_and_refuses_a_duplicate(marts_built):
    """The marts' keys (and the intervals') are not tested by a unique and a not_null test node each in every
    hourly build: the table's unique index (config `indexes`) on NOT NULL columns refuses a duplicate or null key."""
    warehouse, _ = marts_built
    keys = {  # the grain each model's yml states
        "marts.fct_sensor_hourly": {"sensor_id", "sensor_type", "hour_start"},
        "marts.fct_meter_consumption_hourly": {"meter_id", "hour_start"},
        "marts.fct_meter_hour_vee_adjustments": {"meter_id", "hour_start"},  # the VEE mart is a view
        "marts.fct_customer_consumption_daily": {"customer_id", "day"},
        "marts.fct_customer_consumption_daily_local": {"customer_id", "local_day"},
        "marts.fct_transformer_loading_hourly": {"transformer_id", "hour_start"},
        "marts.fct_feeder_loading_hourly": {"feeder_id", "hour_start"},
        "intermediate.int_meter_intervals": {"meter_id", "ended_at"},
    }
    for table, key in keys.items():
        unique_indexes = query(
            warehouse,
            "select array_agg(a.attname::text) from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
            "and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisunique group by i.indexrelid",
            (table,),
        )
        assert key in [set(columns) for (columns,) in unique_indexes], table
        assert key <= not_null_columns(warehouse, table), table
    hourly = "marts.fct_meter_consumption_hourly"
    with pytest.raises(psycopg2.errors.UniqueViolation):
        query(warehouse, f"insert into {hourly} select * from {hourly} where meter_id = 'M1' limit 1; select 1")
    with pytest.raises(psycopg2.errors.NotNullViolation):
        query(warehouse, f"update {hourly} set hour_start = null where meter_id = 'M1'; select 1")


def test_a_model_writing_a_duplicate_key_fails_the_build_naming_the_constraint(settings, marts_built, tmp_path):
    """A mart's unique index refuses a duplicate key (no test node checks it): the build fails, its message
    carries the database's line that says what was refused, and the mart keeps its rows."""
    from orchestration.steps.dbt_runner import DbtFailure

    warehouse, source = marts_built
    before = mart_rows(warehouse, "fct_sensor_hourly")
    # a new sensor-hour (validated on the way: +fct_sensor_hourly), then a model that writes each of its rows twice
    insert_sensor_rows(source, [{"event_id": "v-new", "sensor_id": "S1", "sensor_type": "voltage", "value": 231,
                                 "timestamp": at("14:10"), "created_at": at("+1 09:00")}])  # fmt: skip
    assert load_raw(warehouse, source, at("+1 09:00"), at("+1 10:00")).rows_loaded == 1

    def every_row_twice(sql: str) -> str:
        assert sql.rstrip().endswith("select * from final")
        return sql.rstrip() + " union all select * from final\n"

    changed = edited_project(settings, tmp_path, "marts/grid/fct_sensor_hourly.sql", every_row_twice)
    with pytest.raises(DbtFailure) as failed:  # its unit tests would fail first: build leaves them out
        build(changed, warehouse, "--select", "+fct_sensor_hourly")
    assert "model fct_sensor_hourly: Database Error" in str(failed.value)
    assert "duplicate key value violates unique constraint" in str(failed.value)
    assert mart_rows(warehouse, "fct_sensor_hourly") == before


def test_session_time_zone_does_not_move_the_hours(settings, marts_built, monkeypatch):
    warehouse, _ = marts_built
    before = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    monkeypatch.setitem(os.environ, "PGTZ", "Asia/Kolkata")  # a +05:30 session for dbt
    build(settings, warehouse, "--full-refresh")
    assert {m: mart_rows(warehouse, m) for m in before} == before
