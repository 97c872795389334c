"""Local-time days (marts.rpt_meter_daily_local, the customer mart, VEE day checks and the grid report's heat map)
around DST: 92 and 100 quarter-hours in Europe/Berlin, 100 on New York's fall-back day, while the pipeline itself
stays in UTC.

Every number is worked out in the comments. Times are UTC unless they say local.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from orchestration.report.views import ensure_views
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

    # the grid report's heat map (reports.rpt_meter_data_quality_daily) counts local days too: whole days of 23
    # and 25 hours; SPRING's first local day 03-28 (03-27 23:00 .. 03-28 23:00 UTC) has readings from 00:00 UTC
    # on, so 23 of its 24 hours have energy (1 missing: 4.2 %)
    ensure_views(settings, warehouse)
    heat_map = "select meter_id, day, hours_in_day, hours_measured, hours_missing, measured_pct " \
        "from reports.rpt_meter_data_quality_daily where meter_id in ('SPRING', 'AUTUMN') and day in " \
        "('2026-03-28', '2026-03-29', '2026-10-25', '2026-10-26') order by 1, 2"  # fmt: skip
    days = [datetime(2026, *md).date() for md in [(10, 25), (10, 26), (3, 28), (3, 29)]]
    assert query(warehouse, heat_map) == [
        ("AUTUMN", days[0], 25, 25, 0, d("100.0")),
        ("AUTUMN", days[1], 24, 24, 0, d("100.0")),  # 10-25 23:00 .. 10-26 23:00 UTC, read through 23:45
        ("SPRING", days[2], 24, 23, 1, d("95.8")),  # 23 / 24
        ("SPRING", days[3], 23, 23, 0, d("100.0")),
    ]
    # inside a report window [03-29 12:00, 10-26 00:00) UTC: SPRING's 03-29 keeps 12:00 .. 22:00 UTC, 10 hours,
    # all measured; its 03-28 is outside; AUTUMN's 10-26 keeps 10-25 23:00 .. 10-26 00:00 UTC, 1 hour
    window = "select set_config('smartgrid.report_start', '2026-03-29 12:00+00', false), " \
        "set_config('smartgrid.report_end', '2026-10-26 00:00+00', false); "  # fmt: skip
    assert query(warehouse, window + heat_map) == [
        ("AUTUMN", days[0], 25, 25, 0, d("100.0")),
        ("AUTUMN", days[1], 1, 1, 0, d("100.0")),
        ("SPRING", days[3], 10, 10, 0, d("100.0")),
    ]

    # the same report for a North American utility: only the var changes
    build(settings, warehouse, "--select", "rpt_meter_daily_local", "--vars", '{"local_time_zone": "America/New_York"}')
    new_york = local_days(warehouse, "NEWYORK")
    assert new_york[datetime(2026, 11, 1).date()] == (25, 100, 100, d("25"))
    assert new_york[datetime(2026, 11, 2).date()] == (24, 96, 96, d("24"))
