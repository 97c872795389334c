"""Energy billed to the customer who used it (docs/data-contract.md §4): an hour belongs to the customer named on
the closing reading of the last interval that overlaps it, so a move-in never rewrites a meter's past.

Every number is worked out in the comments. All times are on 2026-03-10, UTC (local Europe/Berlin is +1 h, the
same date for every hour used here). Every meter's register rises 1 kWh per reading.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestration.steps.loader import load_raw
from tests.helpers import at, build, d, insert_meter_rows, mart_rows, query

pytestmark = pytest.mark.slow

DAY = datetime(2026, 3, 10).date()


def readings(meter: str, *times_and_customers: tuple[str, str], first_kwh: int = 100, created: str | None = None):
    """One reading per (hh:mm, customer), the register rising 1 kWh each time from `first_kwh`."""
    return [
        {
            "event_id": f"{meter}-{hhmm}",
            "meter_id": meter,
            "customer_id": customer,
            "reading": first_kwh + n,
            "timestamp": at(hhmm),
            **({"created_at": at(created)} if created else {}),
        }
        for n, (hhmm, customer) in enumerate(times_and_customers)
    ]


def hours_of(warehouse, meter: str) -> dict[str, tuple]:
    """{'hh:mm': (customer_id, consumption_kwh)} of one meter in fct_meter_consumption_hourly."""
    rows = query(
        warehouse,
        "select to_char(hour_start at time zone 'UTC', 'HH24:MI'), customer_id, consumption_kwh "
        "from marts.fct_meter_consumption_hourly where meter_id = %s",
        (meter,),
    )
    return {hour: (customer, kwh) for hour, customer, kwh in rows}


def test_a_move_in_credits_each_hour_to_the_customer_in_service(settings, fresh_databases):
    warehouse, source = fresh_databases
    # MID moves from C1 to C2 in the middle of hour 10: the 10:30 reading is the first to name C2.
    #   [09:45,10:00) closes with C1 -> hour 09 is C1's (1 kWh)
    #   hour 10 holds [10:00,10:15) (closing with C1), [10:15,10:30), [10:30,10:45), [10:45,11:00) (closing with
    #   C2): its last interval closes with C2, so all 4 kWh are C2's, C1's last quarter-hour included
    mid = readings("MID", ("09:45", "C1"), ("10:00", "C1"), ("10:15", "C1"), ("10:30", "C2"), ("10:45", "C2"))
    mid += readings("MID", ("11:00", "C2"), first_kwh=105)
    # ON_HOUR moves on the hour: C3 reads 10:45 and 11:00, C4 first reads 11:15.
    #   hour 10: [10:45,11:00) closes with C3 -> C3 (1); hour 11: [11:00,11:15) closes with C4 -> C4 (1)
    on_hour = readings("ON_HOUR", ("10:45", "C3"), ("11:00", "C3"), ("11:15", "C4"))
    # BACK goes C5 -> C6 -> C5: hour 12 [12:45,13:00) C5 (1); hour 13: four intervals closing with C6 (4);
    # hour 14: [14:00,14:15) closes with C5 again (1)
    back = readings(
        "BACK",
        ("12:45", "C5"),
        ("13:00", "C5"),
        ("13:15", "C6"),
        ("13:30", "C6"),
        ("13:45", "C6"),
        ("14:00", "C6"),
        ("14:15", "C5"),
    )
    # LATER has C7 through hour 08; the readings naming C8 arrive in a later run
    later = readings("LATER", ("08:00", "C7"), ("08:15", "C7"), ("08:30", "C7"), ("08:45", "C7"), ("09:00", "C7"))
    insert_meter_rows(source, mid + on_hour + back + later)
    load_raw(warehouse, source, at("08:00"), at("15:00"))
    build(settings, warehouse)

    assert hours_of(warehouse, "MID") == {"09:00": ("C1", d("1")), "10:00": ("C2", d("4"))}
    assert hours_of(warehouse, "ON_HOUR") == {"10:00": ("C3", d("1")), "11:00": ("C4", d("1"))}
    assert hours_of(warehouse, "BACK") == {"12:00": ("C5", d("1")), "13:00": ("C6", d("4")), "14:00": ("C5", d("1"))}
    assert hours_of(warehouse, "LATER") == {"08:00": ("C7", d("4"))}
    # who had the meter when: C5, C6, then C5 again in a period of its own; valid_to is the next period's start
    assert query(
        warehouse,
        "select customer_id, period_number, to_char(valid_from at time zone 'UTC', 'HH24:MI'), "
        "to_char(valid_to at time zone 'UTC', 'HH24:MI') from marts.dim_meter_customer_periods "
        "where meter_id = 'BACK' order by period_number",
    ) == [("C5", 1, "12:45", "13:00"), ("C6", 2, "13:00", "14:00"), ("C5", 3, "14:00", None)]
    hour_08_built = query(
        warehouse,
        "select loaded_through from marts.fct_meter_consumption_hourly where meter_id = 'LATER'",
    )

    # A later run: LATER's move-in readings (09:15, 09:30 naming C8), and a late ON_HOUR reading at 11:10 naming
    # C3, next to its move.
    #   LATER hour 09: [09:00,09:15) and [09:15,09:30) close with C8 -> C8 (2); hour 08 keeps C7 and is not rebuilt
    #   ON_HOUR hour 11: [11:00,11:10) C3 (+0.5), [11:10,11:15) C4 (+0.5): the last closes with C4 -> still C4 (1)
    insert_meter_rows(source, readings("LATER", ("09:15", "C8"), ("09:30", "C8"), first_kwh=105, created="+1 09:00"))
    late = readings("ON_HOUR", ("11:10", "C3"), first_kwh=101, created="+1 09:00")
    insert_meter_rows(source, [{**late[0], "reading": d("101.5")}])
    assert load_raw(warehouse, source, at("+1 09:00"), at("+1 10:00")).rows_loaded == 3
    build(settings, warehouse)

    assert hours_of(warehouse, "LATER") == {"08:00": ("C7", d("4")), "09:00": ("C8", d("2"))}
    assert hours_of(warehouse, "ON_HOUR") == {"10:00": ("C3", d("1")), "11:00": ("C4", d("1"))}
    assert (
        query(
            warehouse,
            "select loaded_through from marts.fct_meter_consumption_hourly where meter_id = 'LATER' and "
            "hour_start = '2026-03-10 08:00+00'",
        )
        == hour_08_built
    ), "a move-in rebuilt an earlier hour"

    # the customer days: each customer's meter-hours, by UTC day and by local day (both 2026-03-10 here)
    #   C1 1 (MID h09); C2 4 (MID h10); C3 1 (ON_HOUR h10); C4 1 (ON_HOUR h11); C5 1 + 1 (BACK h12, h14);
    #   C6 4 (BACK h13); C7 4 (LATER h08); C8 2 (LATER h09)
    expected = {"C1": 1, "C2": 4, "C3": 1, "C4": 1, "C5": 2, "C6": 4, "C7": 4, "C8": 2}
    utc_days = mart_rows(warehouse, "fct_customer_consumption_daily")
    local_days = mart_rows(warehouse, "fct_customer_consumption_daily_local")
    assert {customer: row["consumption_kwh"] for (customer, _), row in utc_days.items()} == {
        c: d(kwh) for c, kwh in expected.items()
    }
    assert {key: row["consumption_kwh"] for key, row in local_days.items()} == {
        (c, DAY): d(kwh) for c, kwh in expected.items()
    }
    assert {row["hours_in_day"] for row in local_days.values()} == {24}

    # the incremental result equals a rebuild of everything from raw
    marts = ("fct_meter_consumption_hourly", "fct_customer_consumption_daily", "fct_customer_consumption_daily_local")
    incremental = {m: mart_rows(warehouse, m) for m in marts}
    build(settings, warehouse, "--full-refresh")
    assert {m: mart_rows(warehouse, m) for m in marts} == incremental
