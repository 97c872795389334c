"""Local-time days (marts.rpt_meter_daily_local) around DST: 92 and 100 quarter-hours in Europe/Berlin, 100 on
New York's fall-back day, while the pipeline itself stays in UTC.

Every number is worked out in the comments. Times are UTC unless they say local.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from orchestration.steps.loader import load_raw
from tests.helpers import build, d, insert_meter_rows, query

pytestmark = pytest.mark.slow

QUARTER = timedelta(minutes=15)


def quarter_hours(meter: str, start: datetime, end: datetime) -> list[dict]:
    """Readings every 15 minutes in [start, end), 1 kWh an hour."""
    rows, t, register = [], start, Decimal(500)
    while t < end:
        rows.append(
            {
                "event_id": f"{meter}-{t:%Y%m%dT%H%M}",
                "meter_id": meter,
                "customer_id": f"C-{meter}",
                "reading": register,
                "timestamp": t,
            }
        )
        register += Decimal("0.25")
        t += QUARTER
    return rows


def local_days(warehouse, meter: str) -> dict:
    rows = query(
        warehouse,
        "select local_date, day_hours, expected_intervals, found_intervals, vee_kwh "
        "from marts.rpt_meter_daily_local where meter_id = %s",
        (meter,),
    )
    return {day: tuple(rest) for day, *rest in rows}


def test_local_days_around_dst_have_92_and_100_quarter_hours(settings, fresh_databases):
    warehouse, source = fresh_databases
    # Europe/Berlin: local 2026-03-29 runs from 03-28 23:00 UTC (CET, +1) to 03-29 22:00 UTC (CEST, +2):
    # 23 hours, 92 quarter-hours. Local 2026-10-25 runs from 10-24 22:00 UTC to 10-25 23:00 UTC: 25 hours, 100.
    # Local 03-30 is an ordinary day, 03-29 22:00 .. 03-30 22:00 UTC: 96. The meters read every quarter-hour
    # in UTC and use 1 kWh an hour, so a full local day uses as many kWh as it has hours.
    insert_meter_rows(source, quarter_hours("SPRING", datetime(2026, 3, 28), datetime(2026, 3, 31)))
    insert_meter_rows(source, quarter_hours("AUTUMN", datetime(2026, 10, 24), datetime(2026, 10, 27)))
    # America/New_York falls back on 2026-11-01: 04:00 UTC (EDT, -4) to 11-02 05:00 UTC (EST, -5), 25 hours
    insert_meter_rows(source, quarter_hours("NEWYORK", datetime(2026, 10, 31), datetime(2026, 11, 4)))
    load_raw(warehouse, source, datetime(2026, 3, 28), datetime(2026, 11, 5))
    build(settings, warehouse)

    spring, autumn = local_days(warehouse, "SPRING"), local_days(warehouse, "AUTUMN")
    assert spring[datetime(2026, 3, 29).date()] == (23, 92, 92, d("23"))
    assert spring[datetime(2026, 3, 30).date()] == (24, 96, 96, d("24"))
    assert autumn[datetime(2026, 10, 25).date()] == (25, 100, 100, d("25"))
    # the pipeline itself stays in UTC: the UTC day 2026-03-29 has its 96 quarter-hours and 24 hours
    assert query(
        warehouse,
        "select count(*), sum(consumption_kwh) from marts.fct_meter_consumption_hourly "
        "where meter_id = 'SPRING' and (hour_start at time zone 'UTC')::date = '2026-03-29'",
    ) == [(24, d("24"))]
    assert query(
        warehouse, "select count(*) from audit.meter_vee_exceptions where reason_code = 'gap' and day = '2026-03-29'"
    ) == [(0,)]
    # VEE judges local days too: the spring day expects its 92 quarter-hours, the autumn day 100, and finds them
    assert query(
        warehouse,
        "select meter_id, day, expected_intervals, found_intervals from intermediate.int_meter_reading_day_checks "
        "where (meter_id, day) in (('SPRING', '2026-03-29'), ('AUTUMN', '2026-10-25')) order by 1",
    ) == [("AUTUMN", datetime(2026, 10, 25).date(), 100, 100), ("SPRING", datetime(2026, 3, 29).date(), 92, 92)]
    # customers are billed on local days: C-SPRING's 2026-03-29 has 23 hours and 23 kWh, C-AUTUMN's 10-25 has 25;
    # by UTC day both have 24 (contract §4, fct_customer_consumption_daily_local)
    assert query(
        warehouse,
        "select customer_id, local_day, hours_in_day, consumption_kwh, meter_count "
        "from marts.fct_customer_consumption_daily_local "
        "where (customer_id, local_day) in (('C-SPRING', '2026-03-29'), ('C-AUTUMN', '2026-10-25')) order by 1",
    ) == [
        ("C-AUTUMN", datetime(2026, 10, 25).date(), 25, d("25"), 1),
        ("C-SPRING", datetime(2026, 3, 29).date(), 23, d("23"), 1),
    ]
    assert query(
        warehouse,
        "select consumption_kwh from marts.fct_customer_consumption_daily "
        "where (customer_id, day) in (('C-SPRING', '2026-03-29'), ('C-AUTUMN', '2026-10-25'))",
    ) == [(d("24"),), (d("24"),)]

    # the same report for a North American utility: only the var changes
    build(settings, warehouse, "--select", "rpt_meter_daily_local", "--vars", '{"local_time_zone": "America/New_York"}')
    new_york = local_days(warehouse, "NEWYORK")
    assert new_york[datetime(2026, 11, 1).date()] == (25, 100, 100, d("25"))
    assert new_york[datetime(2026, 11, 2).date()] == (24, 96, 96, d("24"))
