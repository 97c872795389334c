"""Meter VEE on the real warehouse: the like-day estimate of a 5-hour gap, its replacement when the missing
readings arrive late, its recomputation when a reference day changes, whatever the session time zone (like days
across DST and holidays: tests/test_like_days.py; local-time days: tests/test_local_days.py).

Every number is worked out in the comments. Times are UTC unless they say local.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orchestration.steps.loader import load_raw
from tests.dbt_commands import dbt_result
from tests.helpers import build, d, insert_meter_rows, mart_rows, query

pytestmark = pytest.mark.slow

QUARTER = timedelta(minutes=15)
GAP_DAY = datetime(2026, 3, 10)  # a Tuesday (CET: local = UTC + 1 h); its like days are the working days before it
FIRST_DAY = GAP_DAY - timedelta(days=28)  # 2026-02-10
END = GAP_DAY + timedelta(days=1)  # the last reading is at 2026-03-11 00:00

# kWh per UTC hour. Every hour uses 1 kWh except hours 10-14, whose shape differs by day:
PROFILE = {10: 1, 11: 2, 12: 3, 13: 2, 14: 2}  # the ordinary working-day shape
HOURS_10_TO_14 = {
    GAP_DAY - timedelta(days=5): {h: 3 * v for h, v in PROFILE.items()},  # Thu 03-05: 3 x the shape (every hour)
    GAP_DAY - timedelta(days=4): {h: 2 * v for h, v in PROFILE.items()},  # Fri 03-06: 2 x the shape
    GAP_DAY - timedelta(days=1): {10: 5, 11: 1, 12: 1, 13: 1, 14: 2},  # Mon 03-09: another shape
    GAP_DAY: {10: 1, 11: 2, 12: 6, 13: 3, 14: 3},  # what the gap day really used: 15 kWh
}
MULTIPLIER = {GAP_DAY - timedelta(days=5): 3, GAP_DAY - timedelta(days=4): 2}  # applies to all of that day's hours
# held back at first: 03-09 20:15 (a 30-minute gap: that Monday carries an interpolated hour, so it is not a like
# day) and the gap day's readings 10:15 .. 14:45 (a 5-hour gap, 10:00 -> 15:00)
REFERENCE_HOLE = [GAP_DAY - timedelta(days=1) + timedelta(hours=20, minutes=15)]
GAP_HOLE = [GAP_DAY + timedelta(hours=10) + QUARTER * i for i in range(1, 20)]


def kwh_in_hour(t: datetime) -> Decimal:
    day = t.replace(hour=0, minute=0)
    if t.hour in PROFILE:
        return Decimal(HOURS_10_TO_14.get(day, PROFILE)[t.hour])
    return Decimal(MULTIPLIER.get(day, 1))


def register_series() -> list[tuple[datetime, Decimal]]:
    """Quarter-hour register readings from FIRST_DAY 00:00 to END 00:00, starting at 1000 kWh."""
    readings, t, register = [], FIRST_DAY, Decimal(1000)
    while t <= END:
        readings.append((t, register))
        register += kwh_in_hour(t) / 4
        t += QUARTER
    return readings


def meter_row(t: datetime, register: Decimal, arrived: datetime | None = None) -> dict:
    return {
        "event_id": f"ld-{t:%Y%m%dT%H%M}",
        "meter_id": "LD",
        "customer_id": "C-LD",
        "reading": register,
        "timestamp": t,
        "created_at": arrived or t + timedelta(seconds=10),
    }


def vee_hours(warehouse, day: datetime) -> dict[int, tuple]:
    rows = query(
        warehouse,
        "select extract(hour from hour_start at time zone 'UTC')::int, measured_kwh, interpolated_kwh, "
        "like_day_kwh, vee_kwh, vee_quality_code, like_day_reference_days "
        "from marts.fct_meter_consumption_hourly_vee "
        "where meter_id = 'LD' and hour_start >= %s and hour_start < %s order by 1",
        (day.replace(tzinfo=UTC), (day + timedelta(days=1)).replace(tzinfo=UTC)),
    )
    return {hour: tuple(rest) for hour, *rest in rows}


def day_total(warehouse, table: str, column: str, day: datetime) -> Decimal:
    return query(
        warehouse,
        f"select sum({column}) from marts.{table} where meter_id = 'LD' and hour_start >= %s and hour_start < %s",
        (day.replace(tzinfo=UTC), (day + timedelta(days=1)).replace(tzinfo=UTC)),
    )[0][0]


def whole_mart(warehouse, table: str) -> list[dict]:
    """Every row, without the pipeline's bookkeeping column."""
    return sorted(mart_rows(warehouse, table).items())


def gap_exceptions(warehouse) -> dict:
    rows = query(
        warehouse,
        "select day, exception_count, observed_value, threshold from audit.meter_vee_exceptions "
        "where meter_id = 'LD' and reason_code = 'gap'",
    )
    return {day: (count, observed, threshold) for day, count, observed, threshold in rows}


def test_a_five_hour_gap_is_estimated_from_like_days_and_replaced_by_late_readings(settings, fresh_databases, tmp_path):
    warehouse, source = fresh_databases
    series = register_series()
    registers = dict(series)
    held_back = set(REFERENCE_HOLE + GAP_HOLE)
    insert_meter_rows(source, [meter_row(t, r) for t, r in series if t not in held_back])
    load_raw(warehouse, source, FIRST_DAY, END + timedelta(hours=1))
    build(settings, warehouse)

    # Across the gap 10:00 -> 15:00 the register rises by what those hours used, 1 + 2 + 6 + 3 + 3 = 15 kWh.
    # docs/data-contract.md §4 spreads it linearly, 3 kWh an hour, and calls the hours questionable (10).
    # Like days: all-measured working days before the gap, nearest first (local = UTC + 1 h all along, so the
    # hours line up): Mon 03-09 has an interpolated hour (skipped), Fri 03-06 (2,4,6,4,4), Thu 03-05 (3,6,9,6,6),
    # Wed 03-04 (1,2,3,2,2). Their average 2,4,6,4,4 (sum 20) scaled to 15 kWh: 15 x 2/20 = 1.5, 15 x 4/20 = 3,
    # 15 x 6/20 = 4.5, 3, 3 (sum 15), code 8.
    references = "2026-03-06,2026-03-05,2026-03-04"
    hours = vee_hours(warehouse, GAP_DAY)
    assert {h: hours[h] for h in range(9, 16)} == {
        9: (d("1"), d("0"), None, d("1"), 0, None),
        10: (d("0"), d("0"), d("1.5"), d("1.5"), 8, references),
        11: (d("0"), d("0"), d("3"), d("3"), 8, references),
        12: (d("0"), d("0"), d("4.5"), d("4.5"), 8, references),
        13: (d("0"), d("0"), d("3"), d("3"), 8, references),
        14: (d("0"), d("0"), d("3"), d("3"), 8, references),
        15: (d("1"), d("0"), None, d("1"), 0, None),
    }
    spec = query(
        warehouse,
        "select consumption_kwh, quality_code from marts.fct_meter_consumption_hourly "
        "where meter_id = 'LD' and hour_start = %s",
        (datetime(2026, 3, 10, 12, tzinfo=UTC),),
    )
    assert spec == [(d("3"), 10)]  # the contract's mart keeps its linear spread
    # The day's total equals the register delta: 10 hours before the gap and 9 after at 1 kWh, plus 15 = 34.
    register_delta = registers[END] - registers[GAP_DAY]
    assert register_delta == d("34")
    assert day_total(warehouse, "fct_meter_consumption_hourly_vee", "vee_kwh", GAP_DAY) == register_delta
    # the gap rule: 96 quarter-hours expected on each full local day; the gap day misses 19, 03-09 misses one
    assert gap_exceptions(warehouse) == {
        GAP_DAY.date(): (19, d("77"), d("96")),
        (GAP_DAY - timedelta(days=1)).date(): (1, d("95"), d("96")),
    }

    # 03-09 20:15 arrives late: that Monday becomes a like day and the nearest, so the estimate of the gap day
    # changes although nothing on the gap day arrived.
    # Like days 03-09, 03-06, 03-05: hours 10-14 sum to (5+2+3, 1+4+6, 1+6+9, 1+4+6, 2+4+6) = 10, 11, 16, 11, 12
    # (total 60); 15 kWh x 10/60 = 2.5, x 11/60 = 2.75, x 16/60 = 4, 2.75, 3.
    arrival = END + timedelta(hours=5)
    insert_meter_rows(source, [meter_row(t, registers[t], arrived=arrival) for t in REFERENCE_HOLE])
    load_raw(warehouse, source, END, END + timedelta(hours=6))
    build(settings, warehouse)
    references = "2026-03-09,2026-03-06,2026-03-05"
    hours = vee_hours(warehouse, GAP_DAY)
    assert {h: (hours[h][2], hours[h][4], hours[h][5]) for h in range(10, 15)} == {
        10: (d("2.5"), 8, references),
        11: (d("2.75"), 8, references),
        12: (d("4"), 8, references),
        13: (d("2.75"), 8, references),
        14: (d("3"), 8, references),
    }
    assert day_total(warehouse, "fct_meter_consumption_hourly_vee", "vee_kwh", GAP_DAY) == register_delta
    # the incremental result is what a rebuild from raw gives
    incremental = whole_mart(warehouse, "fct_meter_consumption_hourly_vee")
    build(settings, warehouse, "--full-refresh")
    assert whole_mart(warehouse, "fct_meter_consumption_hourly_vee") == incremental

    # The gap day's missing readings arrive: the estimate is replaced by what was measured, 1, 2, 6, 3, 3.
    arrival = END + timedelta(hours=8)
    insert_meter_rows(source, [meter_row(t, registers[t], arrived=arrival) for t in GAP_HOLE])
    load_raw(warehouse, source, END, END + timedelta(hours=9))
    build(settings, warehouse)
    hours = vee_hours(warehouse, GAP_DAY)
    assert {h: hours[h] for h in range(10, 15)} == {
        10: (d("1"), d("0"), None, d("1"), 0, None),
        11: (d("2"), d("0"), None, d("2"), 0, None),
        12: (d("6"), d("0"), None, d("6"), 0, None),
        13: (d("3"), d("0"), None, d("3"), 0, None),
        14: (d("3"), d("0"), None, d("3"), 0, None),
    }
    assert day_total(warehouse, "fct_meter_consumption_hourly_vee", "vee_kwh", GAP_DAY) == register_delta
    assert gap_exceptions(warehouse) == {}  # every quarter-hour is there now
    incremental = whole_mart(warehouse, "fct_meter_consumption_hourly_vee")
    build(settings, warehouse, "--full-refresh")
    assert whole_mart(warehouse, "fct_meter_consumption_hourly_vee") == incremental

    # No hour is adjusted any more, so the adjustments table has no row to take its watermark from. It reads the
    # one it recorded, the hourly mart's newest loaded_through (with only its rows to go by: -infinity, and every
    # run would rebuild from all of history).
    assert query(warehouse, "select count(*) from marts.fct_meter_hour_vee_adjustments") == [(0,)]
    newest = query(warehouse, "select max(loaded_through)::text from marts.fct_meter_consumption_hourly")[0][0]
    assert f"loaded_through > '{newest}'::timestamptz" in compiled(settings, warehouse, tmp_path, ADJUSTMENTS)


ADJUSTMENTS = "fct_meter_hour_vee_adjustments"


def compiled(settings, warehouse, tmp_path, model: str) -> str:
    """The model's SQL as `dbt compile` writes it for this warehouse (the incremental path, when its table exists)."""
    result = dbt_result(settings, warehouse, "compile", "--select", model, "--target-path", str(tmp_path / "target"))
    return result.results[0].node.compiled_code


def test_like_days_do_not_follow_the_session_time_zone(settings, fresh_databases, monkeypatch):
    """The like days live on the utility's clock (var local_time_zone), not the database session's: New York
    springs forward on 2026-03-08, between the gap day and its like days, and must move no hour."""
    warehouse, source = fresh_databases
    held_back = set(REFERENCE_HOLE + GAP_HOLE)  # as in the first state of the test above
    insert_meter_rows(source, [meter_row(t, r) for t, r in register_series() if t not in held_back])
    load_raw(warehouse, source, FIRST_DAY, END + timedelta(hours=1))
    monkeypatch.setitem(os.environ, "PGTZ", "America/New_York")
    build(settings, warehouse)
    hours = vee_hours(warehouse, GAP_DAY)
    # the same like days and numbers as in a UTC session above: 1.5, 3, 4.5, 3, 3
    assert [hours[h][2] for h in range(10, 15)] == [d("1.5"), d("3"), d("4.5"), d("3"), d("3")]
    assert hours[10][5] == "2026-03-06,2026-03-05,2026-03-04"
