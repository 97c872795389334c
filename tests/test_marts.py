"""The marts on a tiny hand-worked dataset (docs/data-contract.md §3-§4): every number below is worked out in comments.

All times are on 2026-03-10, UTC.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from orchestration.steps.loader import load_raw
from tests.helpers import at, build, d, insert_meter_rows, insert_sensor_rows, mart_rows, query, scalar

pytestmark = pytest.mark.slow

END = datetime(2026, 3, 11)


def h(hhmm: str) -> datetime:
    """An hour start as the marts store it (timestamptz, UTC)."""
    from datetime import UTC

    return at(hhmm).replace(tzinfo=UTC)


SENSOR_ROWS = [
    # voltage S1, hour 10: 230, 232, 234 -> n 3, mean 232, min 230, max 234, sample stddev sqrt(8/2) = 2
    {"event_id": "v1", "sensor_id": "S1", "sensor_type": "voltage", "value": 230, "timestamp": at("10:00")},
    {"event_id": "v2", "sensor_id": "S1", "sensor_type": "voltage", "value": 232, "timestamp": at("10:01")},
    {"event_id": "v3", "sensor_id": "S1", "sensor_type": "voltage", "value": 234, "timestamp": at("10:02")},
    {"event_id": "v-nan", "sensor_id": "S1", "sensor_type": "voltage", "value": "NaN", "timestamp": at("10:03")},
    {"event_id": "v-range", "sensor_id": "S1", "sensor_type": "voltage", "value": 1500, "timestamp": at("10:04")},
    {"event_id": "t-type", "sensor_id": "S1", "sensor_type": "temperature", "value": 21, "timestamp": at("10:05")},
    # measured 10:06 but arrived 10:00: six minutes in the future
    {
        "event_id": "f-future",
        "sensor_id": "S1",
        "sensor_type": "frequency",
        "value": 50.01,
        "timestamp": at("10:06"),
        "created_at": at("10:00"),
    },
    # two frequency readings for 11:00: the later arrival (49.98) wins, the other is a duplicate
    {
        "event_id": "f-early",
        "sensor_id": "S1",
        "sensor_type": "frequency",
        "value": 50.00,
        "timestamp": at("11:00"),
        "created_at": at("11:00") + timedelta(seconds=10),
    },
    {
        "event_id": "f-late",
        "sensor_id": "S1",
        "sensor_type": "frequency",
        "value": 49.98,
        "timestamp": at("11:00"),
        "created_at": at("11:02"),
    },
    # 10:59:30 belongs to hour 10, 11:00:00 to hour 11
    {
        "event_id": "c1",
        "sensor_id": "S1",
        "sensor_type": "current",
        "value": 100,
        "timestamp": at("10:59") + timedelta(seconds=30),
    },
    {"event_id": "c2", "sensor_id": "S1", "sensor_type": "current", "value": 200, "timestamp": at("11:00")},
    # power may be negative (export)
    {"event_id": "p1", "sensor_id": "S2", "sensor_type": "power", "value": -50, "timestamp": at("10:30")},
]

METER_ROWS = [
    # M1 (C1, kWh): 99.5 @10:30, 100 @10:45, 103 @12:15, 103.25 @12:30
    #   [10:30,10:45) +0.5 measured                         -> hour 10
    #   [10:45,12:15) +3.0 over 90 min, interpolated: 0.5 (h10), 2.0 (h11), 0.5 (h12)
    #   [12:15,12:30) +0.25 measured                        -> hour 12
    {"event_id": "m1-1030", "meter_id": "M1", "customer_id": "C1", "reading": 99.5, "timestamp": at("10:30")},
    # a conflicting duplicate for 10:45 that arrived first: the later arrival (100.0) wins
    {
        "event_id": "m1-1045-first",
        "meter_id": "M1",
        "customer_id": "C1",
        "reading": 100.2,
        "timestamp": at("10:45"),
        "created_at": at("10:45") + timedelta(seconds=5),
    },
    {
        "event_id": "m1-1045",
        "meter_id": "M1",
        "customer_id": "C1",
        "reading": 100.0,
        "timestamp": at("10:45"),
        "created_at": at("10:50"),
    },
    {"event_id": "m1-1215", "meter_id": "M1", "customer_id": "C1", "reading": 103.0, "timestamp": at("12:15")},
    {"event_id": "m1-1230", "meter_id": "M1", "customer_id": "C1", "reading": 103.25, "timestamp": at("12:30")},
    # M2 (C2, Wh): 50 kWh @00:00, 51 @00:15, reset to 0.2 @00:30, 0.7 @00:45, 3.7 @03:45
    #   hour 0: +1 + 0 (negative: reset) + 0.5 + 3 * 15/180 = 1.75, of which 0.25 interpolated
    #   hours 1 and 2: 3 * 60/180 = 1.0 each; hour 3: 0.75. Every hour touches the reset or the 3 h gap: 10
    {
        "event_id": "m2-0000",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 50000,
        "unit": "Wh",
        "timestamp": at("00:00"),
    },
    {
        "event_id": "m2-0015",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 51000,
        "unit": "Wh",
        "timestamp": at("00:15"),
    },
    {
        "event_id": "m2-0030",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 200,
        "unit": "wh",
        "timestamp": at("00:30"),
    },
    {
        "event_id": "m2-0045",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 700,
        "unit": "Wh",
        "timestamp": at("00:45"),
    },
    {
        "event_id": "m2-nan",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": "NaN",
        "unit": "Wh",
        "timestamp": at("01:00"),
    },
    {
        "event_id": "m2-neg",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": -5,
        "unit": "Wh",
        "timestamp": at("01:15"),
    },
    {
        "event_id": "m2-unit",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 900,
        "unit": "gal",
        "timestamp": at("01:30"),
    },
    {
        "event_id": "m2-future",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 1000,
        "unit": "Wh",
        "timestamp": at("02:00"),
        "created_at": at("01:50"),
    },
    {
        "event_id": "m2-0345",
        "meter_id": "M2",
        "customer_id": "C2",
        "reading": 3700,
        "unit": "Wh",
        "timestamp": at("03:45"),
    },
    # M3 (C1, MWh; NULL unit would mean kWh): 1000, 1001, 1002 kWh -> hour 10: 2.0 measured, code 0
    {
        "event_id": "m3-1000",
        "meter_id": "M3",
        "customer_id": "C1",
        "reading": 1.0,
        "unit": "MWh",
        "timestamp": at("10:00"),
    },
    {
        "event_id": "m3-1015",
        "meter_id": "M3",
        "customer_id": "C1",
        "reading": 1.001,
        "unit": "MWh",
        "timestamp": at("10:15"),
    },
    {
        "event_id": "m3-1030",
        "meter_id": "M3",
        "customer_id": "C1",
        "reading": 1.002,
        "unit": "MWh",
        "timestamp": at("10:30"),
    },
]


@pytest.fixture
def built(settings, fresh_databases):
    warehouse, source = fresh_databases
    insert_sensor_rows(source, SENSOR_ROWS)
    insert_meter_rows(source, METER_ROWS)
    load_raw(warehouse, source, at("10:00"), END)
    build(settings, warehouse)
    return warehouse, source


def test_every_rejection_code_is_listed_with_its_row(built):
    warehouse, _ = built
    rows = query(warehouse, "select source_table, event_id, reason_code, hour_start from audit.rejected_readings")
    assert {(t, e, r) for t, e, r, _ in rows} == {
        ("sensor_data", "v-nan", "not_a_number"),
        ("sensor_data", "v-range", "out_of_range"),
        ("sensor_data", "t-type", "unknown_sensor_type"),
        ("sensor_data", "f-future", "future_timestamp"),
        ("sensor_data", "f-early", "duplicate"),
        ("meter_readings", "m1-1045-first", "duplicate"),
        ("meter_readings", "m2-nan", "not_a_number"),
        ("meter_readings", "m2-neg", "negative_reading"),
        ("meter_readings", "m2-unit", "unknown_unit"),
        ("meter_readings", "m2-future", "future_timestamp"),
    }
    hours = {e: hour for _, e, _, hour in rows}
    assert hours["f-early"] == h("11:00") and hours["m2-unit"] == h("01:00")


def test_sensor_hourly_matches_hand_computed_values(built):
    warehouse, _ = built
    assert mart_rows(warehouse, "fct_sensor_hourly") == {
        ("S1", "voltage", h("10:00")): {
            "sensor_id": "S1",
            "sensor_type": "voltage",
            "hour_start": h("10:00"),
            "reading_count": 3,
            "avg_value": d("232"),
            "min_value": d("230"),
            "max_value": d("234"),
            "stddev_value": d("2"),
            # power quality: 3 of 60 expected readings; all inside 207-253 V; p95 at rank 0.95 x 2 = 1.9:
            # 232 + 0.9 x (234 - 232) = 233.8; too few readings for an ok hour
            "expected_readings": 60,
            "completeness_pct": d("5.00"),
            "count_outside_band": 0,
            "p95_value": d("233.8"),
            "pq_flag": "incomplete",
        },
        ("S1", "frequency", h("11:00")): {
            "sensor_id": "S1",
            "sensor_type": "frequency",
            "hour_start": h("11:00"),
            "reading_count": 1,
            "avg_value": d("49.98"),
            "min_value": d("49.98"),
            "max_value": d("49.98"),
            "stddev_value": None,
            # 49.98 Hz is inside 49.5-50.5; 1 of 60 readings = 1.67 %
            "expected_readings": 60,
            "completeness_pct": d("1.67"),
            "count_outside_band": 0,
            "p95_value": d("49.98"),
            "pq_flag": "incomplete",
        },
        ("S1", "current", h("10:00")): {
            "sensor_id": "S1",
            "sensor_type": "current",
            "hour_start": h("10:00"),
            "reading_count": 1,
            "avg_value": d("100"),
            "min_value": d("100"),
            "max_value": d("100"),
            "stddev_value": None,
            "expected_readings": 60,
            "completeness_pct": d("1.67"),
            "count_outside_band": None,  # current and power have no band
            "p95_value": d("100"),
            "pq_flag": "incomplete",
        },
        ("S1", "current", h("11:00")): {
            "sensor_id": "S1",
            "sensor_type": "current",
            "hour_start": h("11:00"),
            "reading_count": 1,
            "avg_value": d("200"),
            "min_value": d("200"),
            "max_value": d("200"),
            "stddev_value": None,
            "expected_readings": 60,
            "completeness_pct": d("1.67"),
            "count_outside_band": None,  # current and power have no band
            "p95_value": d("200"),
            "pq_flag": "incomplete",
        },
        ("S2", "power", h("10:00")): {
            "sensor_id": "S2",
            "sensor_type": "power",
            "hour_start": h("10:00"),
            "reading_count": 1,
            "avg_value": d("-50"),
            "min_value": d("-50"),
            "max_value": d("-50"),
            "stddev_value": None,
            "expected_readings": 60,
            "completeness_pct": d("1.67"),
            "count_outside_band": None,  # current and power have no band
            "p95_value": d("-50"),
            "pq_flag": "incomplete",
        },
    }


def meter_hour(meter, customer, hhmm, kwh, estimated, count, code):
    return (meter, h(hhmm)), {
        "meter_id": meter,
        "customer_id": customer,
        "hour_start": h(hhmm),
        "consumption_kwh": d(kwh),
        "estimated_kwh": d(estimated),
        "reading_count": count,
        "quality_code": code,
    }


INITIAL_METER_HOURS = dict(
    [
        meter_hour("M1", "C1", "10:00", "1.0", "0.5", 2, 9),
        meter_hour("M1", "C1", "11:00", "2.0", "2.0", 0, 9),
        meter_hour("M1", "C1", "12:00", "0.75", "0.5", 2, 9),
        meter_hour("M2", "C2", "00:00", "1.75", "0.25", 4, 10),
        meter_hour("M2", "C2", "01:00", "1.0", "1.0", 0, 10),
        meter_hour("M2", "C2", "02:00", "1.0", "1.0", 0, 10),
        meter_hour("M2", "C2", "03:00", "0.75", "0.75", 1, 10),
        meter_hour("M3", "C1", "10:00", "2.0", "0", 3, 0),
    ]
)


def test_meter_hourly_spreads_the_register_as_the_contract_says(built):
    warehouse, _ = built
    assert mart_rows(warehouse, "fct_meter_consumption_hourly") == INITIAL_METER_HOURS


def test_customer_daily_sums_the_meters_hours(built):
    warehouse, _ = built
    day = at("00:00").date()
    # C1: M1 3.75 (est 3.0) + M3 2.0 = 5.75; C2: M2 4.5 (est 3.0)
    assert mart_rows(warehouse, "fct_customer_consumption_daily") == {
        ("C1", day): {
            "customer_id": "C1",
            "day": day,
            "consumption_kwh": d("5.75"),
            "estimated_kwh": d("3.0"),
            "meter_count": 2,
        },
        ("C2", day): {
            "customer_id": "C2",
            "day": day,
            "consumption_kwh": d("4.5"),
            "estimated_kwh": d("3.0"),
            "meter_count": 1,
        },
    }


def test_meter_vee_exceptions_on_the_same_data(built):
    warehouse, _ = built
    rows = query(
        warehouse,
        "select meter_id, reason_code, exception_count, observed_value, threshold, first_at, last_at "
        "from audit.meter_vee_exceptions",
    )
    assert {(m, r): rest for m, r, *rest in rows} == {
        # M1 reads 10:30 .. 12:30: 9 quarter-hours expected, 4 found (10:30, 10:45, 12:15, 12:30); the gap
        # interval runs 10:45 -> 12:15. Its two 10:45 readings disagree: 100.2 - 100.0 = 0.2 kWh.
        ("M1", "gap"): [5, d("4"), d("9"), h("10:45"), h("12:15")],
        ("M1", "conflicting_duplicate"): [1, d("0.2"), d("0"), h("10:45"), h("10:45")],
        # M2 reads 00:00 .. 03:45: 16 expected, 5 valid (00:00, 00:15, 00:30, 00:45, 03:45); gap 00:45 -> 03:45
        ("M2", "gap"): [11, d("5"), d("16"), h("00:45"), h("03:45")],
        # 51 kWh at 00:15, 0.2 kWh at 00:30: the register went back by 50.8 kWh
        ("M2", "negative_interval"): [1, d("-50.8"), d("0"), h("00:15"), h("00:30")],
        # measured 02:00, arrived 01:50: 10 minutes ahead, more than the 5 tolerated
        ("M2", "future_timestamp"): [1, d("10"), d("5"), h("02:00"), h("02:00")],
    }


def test_late_rows_rebuild_old_hours_on_both_sides(settings, built):
    warehouse, source = built
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
            # a later reading names a new customer for M1: all of M1's hours move to C9; +0.25 measured in h12
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
                meter_hour("M1", "C9", "10:00", "1.5", "1.0", 2, 9),
                meter_hour("M1", "C9", "11:00", "1.75", "1.75", 1, 9),
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
        ("C1", day): (d("2.0"), d("0"), 1),  # only M3 is left with C1
        ("C9", day): (d("4.0"), d("3.0"), 1),  # 103.5 - 99.5
        ("C2", day): (d("4.5"), d("3.0"), 1),
    }

    # the incremental result equals a rebuild of everything from raw
    incremental = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    build(settings, warehouse, "--full-refresh")
    assert {m: mart_rows(warehouse, m) for m in incremental} == incremental


def test_rerunning_changes_nothing(settings, built):
    warehouse, source = built
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


def test_session_time_zone_does_not_move_the_hours(settings, built, monkeypatch):
    warehouse, _ = built
    before = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    monkeypatch.setitem(os.environ, "PGTZ", "Asia/Kolkata")  # a +05:30 session for dbt
    build(settings, warehouse, "--full-refresh")
    assert {m: mart_rows(warehouse, m) for m in before} == before
