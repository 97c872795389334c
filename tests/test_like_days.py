"""Like days on the wall clock (docs/data-contract.md §4, VEE): reference days of the same local day type, aligned by
local time across both DST changes, public holidays taking holiday references.

Two meters follow a fixed profile on the Europe/Berlin wall clock: kWh per local hour, by day type. Every number
is worked out below: a gap's like-day estimate of an hour equals the profile at that hour's local time, because
every reference day has the same profile and the estimates are scaled to the register delta across the gap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orchestration.steps.loader import load_raw
from tests.helpers import build, insert_meter_rows, query

pytestmark = pytest.mark.slow

BERLIN = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)
HOLIDAYS = {date(2026, 4, 3), date(2026, 4, 6)}  # Good Friday, Easter Monday (dbt_smartgrid/seeds)
# kWh per local hour: working days peak in the evening, Sundays and holidays at lunch and in distinct night steps
WORKING = {
    **{h: Decimal("0.5") for h in range(24)},
    17: Decimal("0.9"),
    18: Decimal("1.7"),
    19: Decimal("1.8"),
    20: Decimal("1.6"),
    21: Decimal("1.0"),
}
SUNDAY = {
    **{h: Decimal("0.3") for h in range(24)},
    1: Decimal("0.2"),
    2: Decimal("0.25"),
    3: Decimal("0.35"),
    4: Decimal("0.45"),
    12: Decimal("1.2"),
    13: Decimal("1.2"),
}


def profile(local: datetime) -> Decimal:
    sunday_like = local.isoweekday() == 7 or local.date() in HOLIDAYS
    return (SUNDAY if sunday_like else WORKING)[local.hour]


def wall_clock_meter(meter: str, start: datetime, end: datetime, gaps: list[tuple[datetime, datetime]]) -> list:
    """Readings every 15 minutes in UTC [start, end]; each quarter uses a quarter of its local hour's kWh. No
    reading strictly inside a gap (UTC)."""
    rows, register, t = [], Decimal(1000), start
    while t <= end:
        if not any(g0 < t < g1 for g0, g1 in gaps):
            rows.append(
                {
                    "event_id": f"{meter}-{t:%m%d%H%M}",
                    "meter_id": meter,
                    "customer_id": f"C-{meter}",
                    "reading": register,
                    "timestamp": t,
                }
            )
        register += profile(t.replace(tzinfo=UTC).astimezone(BERLIN)) / 4
        t += QUARTER
    return rows


def utc(local: str) -> datetime:
    """'2026-04-01 17:00' Berlin time -> naive UTC."""
    return datetime.fromisoformat(local).replace(tzinfo=BERLIN).astimezone(UTC).replace(tzinfo=None)


def estimates(warehouse, meter: str, gap: tuple[datetime, datetime]) -> dict[str, tuple]:
    """{local 'HH:MM': (like_day_kwh, vee_quality_code, like_day_reference_days)} of the gap's hours."""
    rows = query(
        warehouse,
        "select to_char(hour_start at time zone 'Europe/Berlin', 'HH24:MI'), like_day_kwh, vee_quality_code, "
        "like_day_reference_days from marts.fct_meter_consumption_hourly_vee "
        "where meter_id = %s and hour_start >= %s and hour_start < %s order by hour_start",
        (meter, gap[0].replace(tzinfo=UTC), gap[1].replace(tzinfo=UTC)),
    )
    return {local: (kwh, code, refs) for local, kwh, code, refs in rows}


# spring: Europe/Berlin moves to CEST on Sunday 2026-03-29
SPRING_GAP = (utc("2026-04-01 17:00"), utc("2026-04-01 22:00"))  # Wednesday, three days after: 15:00-20:00 UTC
EASTER_MONDAY_GAP = (utc("2026-04-06 11:00"), utc("2026-04-06 15:00"))  # a holiday
AFTER_HOLIDAY_MONDAY_GAP = (utc("2026-04-13 17:00"), utc("2026-04-13 20:00"))  # its Monday before was a holiday
# autumn: back to CET on Sunday 2026-10-25 (02:00-03:00 local happens twice)
AUTUMN_GAP = (utc("2026-10-27 17:00"), utc("2026-10-27 22:00"))  # Tuesday: 16:00-21:00 UTC
SUNDAY_NIGHT_GAP = (utc("2026-11-01 01:00"), utc("2026-11-01 05:00"))  # its Sunday references include 10-25


def test_like_days_follow_the_wall_clock_and_the_day_type(settings, fresh_databases):
    warehouse, source = fresh_databases
    spring_gaps = [SPRING_GAP, EASTER_MONDAY_GAP, AFTER_HOLIDAY_MONDAY_GAP]
    autumn_gaps = [AUTUMN_GAP, SUNDAY_NIGHT_GAP]
    insert_meter_rows(source, wall_clock_meter("SPRING", datetime(2026, 3, 20), datetime(2026, 4, 14), spring_gaps))
    insert_meter_rows(source, wall_clock_meter("AUTUMN", datetime(2026, 10, 10), datetime(2026, 11, 2), autumn_gaps))
    # two runs, so the gaps' estimates are built incrementally, then compared with a full build
    load_raw(warehouse, source, datetime(2026, 3, 20), datetime(2026, 4, 1))
    build(settings, warehouse)
    load_raw(warehouse, source, datetime(2026, 4, 1), datetime(2026, 11, 3))
    build(settings, warehouse)

    e = Decimal
    # Wednesday after the spring change: working-day references Tue 03-31, Mon 03-30 (CEST) and Fri 03-27 (CET),
    # aligned by local time, so each hour gets the profile (was: 0.864, 0.905, 1.769, 1.810, 1.851 by UTC weeks)
    refs = "2026-03-31,2026-03-30,2026-03-27"
    assert estimates(warehouse, "SPRING", SPRING_GAP) == {
        "17:00": (e("0.9"), 8, refs),
        "18:00": (e("1.7"), 8, refs),
        "19:00": (e("1.8"), 8, refs),
        "20:00": (e("1.6"), 8, refs),
        "21:00": (e("1.0"), 8, refs),
    }
    # Easter Monday is a holiday: Easter Sunday, Good Friday and Sunday 03-29 (the 23-hour day) stand in
    refs = "2026-04-05,2026-04-03,2026-03-29"
    assert estimates(warehouse, "SPRING", EASTER_MONDAY_GAP) == {
        "11:00": (e("0.3"), 8, refs),
        "12:00": (e("1.2"), 8, refs),
        "13:00": (e("1.2"), 8, refs),
        "14:00": (e("0.3"), 8, refs),
    }
    # the Monday after: working days Fri 04-10, Thu 04-09, Wed 04-08 (never the holiday Monday 04-06)
    refs = "2026-04-10,2026-04-09,2026-04-08"
    assert estimates(warehouse, "SPRING", AFTER_HOLIDAY_MONDAY_GAP) == {
        "17:00": (e("0.9"), 8, refs),
        "18:00": (e("1.7"), 8, refs),
        "19:00": (e("1.8"), 8, refs),
    }
    # Tuesday after the autumn change: Mon 10-26 (CET), Fri 10-23 and Thu 10-22 (CEST)
    refs = "2026-10-26,2026-10-23,2026-10-22"
    assert estimates(warehouse, "AUTUMN", AUTUMN_GAP) == {
        "17:00": (e("0.9"), 8, refs),
        "18:00": (e("1.7"), 8, refs),
        "19:00": (e("1.8"), 8, refs),
        "20:00": (e("1.6"), 8, refs),
        "21:00": (e("1.0"), 8, refs),
    }
    # a Sunday night: Sunday 10-25 has 02:00 twice (0.25 each time, averaged: 0.25), 10-18 and 10-11 once
    refs = "2026-10-25,2026-10-18,2026-10-11"
    assert estimates(warehouse, "AUTUMN", SUNDAY_NIGHT_GAP) == {
        "01:00": (e("0.2"), 8, refs),
        "02:00": (e("0.25"), 8, refs),
        "03:00": (e("0.35"), 8, refs),
        "04:00": (e("0.45"), 8, refs),
    }

    incremental = query(
        warehouse, "select to_jsonb(t) - 'loaded_through' from marts.fct_meter_consumption_hourly_vee t"
    )
    build(settings, warehouse, "--full-refresh")
    full = query(warehouse, "select to_jsonb(t) - 'loaded_through' from marts.fct_meter_consumption_hourly_vee t")
    assert sorted(map(str, full)) == sorted(map(str, incremental))
