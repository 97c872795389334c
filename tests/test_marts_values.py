"""The marts on the hand-worked dataset (tests/marts_dataset.py): rejections, each mart's rows and the VEE exceptions
equal the numbers worked out there and below.

All times are on 2026-03-10, UTC.
"""

from __future__ import annotations

import pytest

from tests.helpers import at, d, mart_rows, query
from tests.marts_dataset import INITIAL_METER_HOURS, h

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def marts_built(marts_built_once):
    """One load and build for the module (conftest's marts_built is one per test): every test here only reads."""
    return marts_built_once


def test_every_rejection_code_is_listed_with_its_row(marts_built):
    warehouse, _ = marts_built
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


def one_reading_hour(sensor, sensor_type, hhmm, value, count_outside_band):
    """A sensor-hour of a single reading: mean, min, max and p95 are that reading, no sample stddev; 1 of 60
    expected readings = 1.67 %, too few for an ok hour."""
    return (sensor, sensor_type, h(hhmm)), {
        "sensor_id": sensor,
        "sensor_type": sensor_type,
        "hour_start": h(hhmm),
        "reading_count": 1,
        "avg_value": d(value),
        "min_value": d(value),
        "max_value": d(value),
        "stddev_value": None,
        "expected_readings": 60,
        "completeness_pct": d("1.67"),
        "count_outside_band": count_outside_band,
        "p95_value": d(value),
        "pq_flag": "incomplete",
    }


def test_sensor_hourly_matches_hand_computed_values(marts_built):
    warehouse, _ = marts_built
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
        # 49.98 Hz is inside 49.5-50.5
        **dict([one_reading_hour("S1", "frequency", "11:00", "49.98", count_outside_band=0)]),
        # current and power have no band
        **dict(
            [
                one_reading_hour("S1", "current", "10:00", "100", count_outside_band=None),
                one_reading_hour("S1", "current", "11:00", "200", count_outside_band=None),
                one_reading_hour("S2", "power", "10:00", "-50", count_outside_band=None),
            ]
        ),
    }


def test_meter_hourly_spreads_the_register_as_the_contract_says(marts_built):
    warehouse, _ = marts_built
    assert mart_rows(warehouse, "fct_meter_consumption_hourly") == INITIAL_METER_HOURS


def test_customer_daily_sums_the_meters_hours(marts_built):
    warehouse, _ = marts_built
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


def test_meter_vee_exceptions_on_the_same_data(marts_built):
    warehouse, _ = marts_built
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
