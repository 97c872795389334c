"""VEE exceptions are incremental (docs/data-contract.md §4): each run rebuilds only the meter-days its rows touch,
and after several runs with late rows, duplicates, gaps and register resets the result equals a full rebuild.

Simulated meters bring the gaps, resets, duplicates and late arrivals; meter FLAT is worked by hand. Times are UTC;
2026-04-07 is a CEST day (local = UTC + 2 h), so every time below falls on local 2026-04-07.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from orchestration.local.simulator import SimulationConfig, simulate
from orchestration.steps.loader import load_raw
from tests.helpers import build, d, insert_meter_rows, query

pytestmark = pytest.mark.slow

START = datetime(2026, 4, 6)  # a Monday
FLEET = SimulationConfig(meters=6, sensors=1, seed=7, defect_rate=0.06)
DAY = datetime(2026, 4, 7)
QUARTER = timedelta(minutes=15)
VEE_TABLES = ("intermediate.int_meter_reading_day_checks", "intermediate.int_meter_interval_day_checks")


def flat_meter_rows() -> list[dict]:
    """FLAT reads every quarter-hour 06:00-18:00 on 2026-04-07 from 100 kWh, +0.25 kWh each, except 10:00-14:00
    (104 kWh throughout): 16 zero intervals, a flat line of an active meter (N = 8)."""
    rows, register, t = [], Decimal(100), DAY + timedelta(hours=6)
    while t <= DAY + timedelta(hours=18):
        rows.append(
            {"event_id": f"FLAT-{t:%H%M}", "meter_id": "FLAT", "customer_id": "CF", "reading": register, "timestamp": t}
        )
        if not DAY + timedelta(hours=10) <= t < DAY + timedelta(hours=14):
            register += Decimal("0.25")
        t += QUARTER
    return rows


def exceptions_of(warehouse, meter: str) -> dict[str, tuple]:
    rows = query(
        warehouse,
        "select reason_code, day, exception_count, observed_value from audit.meter_vee_exceptions where meter_id = %s",
        (meter,),
    )
    return {reason: (day, count, value) for reason, day, count, value in rows}


def snapshot(warehouse) -> dict[str, set]:
    """The VEE tables and the exceptions view, without the pipeline's bookkeeping column."""
    out = {}
    for table in (*VEE_TABLES, "audit.meter_vee_exceptions", "marts.fct_meter_consumption_hourly_vee"):
        rows = query(warehouse, f"select to_jsonb(t) - 'loaded_through' from {table} as t")
        out[table] = {str(row[0]) for row in rows}
    return out


def test_vee_exceptions_rebuilt_run_by_run_equal_a_full_rebuild(settings, fresh_databases):
    warehouse, source = fresh_databases
    simulate(source, START, START + timedelta(days=3), FLEET, now=START + timedelta(days=4))
    insert_meter_rows(source, flat_meter_rows())
    # four runs, the second ending in the middle of FLAT's flat line (the run is split between two builds)
    bounds = [START, DAY, DAY + timedelta(hours=12), START + timedelta(days=3), START + timedelta(days=4)]
    for window_start, window_end in zip(bounds, bounds[1:], strict=False):
        load_raw(warehouse, source, window_start, window_end)
        build(settings, warehouse)
    local_day = DAY.date()
    # 16 zero intervals 10:00-14:00, one run: exception_count 16, the longest run that day 16
    assert exceptions_of(warehouse, "FLAT") == {"flat_line": (local_day, 16, d("16"))}

    # a late duplicate for 11:00 with another register (104.1 instead of 104: 06:00's 100 + 16 x 0.25) wins as the
    # latest arrival:
    #   [10:45,11:00) +0.1 and [11:00,11:15) -0.1 (negative) split the run: 10:00-10:45 (3 zeros: no flat line) and
    #   11:15-14:00 (11 zeros: a flat line); the two readings for 11:00 disagree by 0.1 kWh
    late = {
        "event_id": "FLAT-1100-late",
        "meter_id": "FLAT",
        "customer_id": "CF",
        "reading": Decimal("104.1"),
        "timestamp": DAY + timedelta(hours=11),
        "created_at": START + timedelta(days=3, hours=12),
    }
    insert_meter_rows(source, [late])
    load_raw(warehouse, source, START + timedelta(days=3, hours=12), START + timedelta(days=3, hours=13))
    build(settings, warehouse)
    assert exceptions_of(warehouse, "FLAT") == {
        "flat_line": (local_day, 11, d("11")),
        "negative_interval": (local_day, 1, d("-0.1")),
        "conflicting_duplicate": (local_day, 1, d("0.1")),
    }
    reasons = {row[0] for row in query(warehouse, "select distinct reason_code from audit.meter_vee_exceptions")}
    # the simulated meters brought what the incremental build must get right (a precondition of this test)
    assert {"gap", "negative_interval", "conflicting_duplicate", "flat_line"} <= reasons

    incremental = snapshot(warehouse)
    build(settings, warehouse, "--full-refresh")
    assert snapshot(warehouse) == incremental
