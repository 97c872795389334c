"""A hand-worked network and its meters (tests/test_network_loading.py): every number is worked out here.

Seven meters read their registers every 15 minutes from 10:00 to 12:00 on 2026-03-10 (UTC), each rising by a
fixed step per reading, so each meter's energy is 4 steps per hour in hours 10 and 11:

    meter   step   kWh/h   connected to (valid_from)          transformer   feeder   rated_kva
    A       1      4       T1 (2026-01-01)                    T1            F1       10
    B       0.5    2       T1                                 T2            F1       5
    C       1.5    6       T2                                 T3            F2       NULL (no rating)
    D       2      8       T3                                 T4            NULL     25 (no meters)
    M       0.25   1       T1, then T2 from 10:30
    U       0.75   3       none (a new installation the GIS does not know)
    X       1.25   5       T404 (no such transformer)

B's 11:15 reading is missing in the first load (it arrives late), so B's hour 11 is interpolated.
The power factor is dbt_project.yml's default 0.95: a 10 kVA transformer is 9.5 kW, a 5 kVA one 4.75 kW.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestration.db.connection import connected
from orchestration.sources import NETWORK_COLUMNS
from tests.helpers import at, query

GIS_DAY = datetime(2026, 1, 1)
STEPS = {"A": 1, "B": 0.5, "C": 1.5, "D": 2, "M": 0.25, "U": 0.75, "X": 1.25}
LATE = ("B", "11:15")  # missing from the first load, delivered with the second

TRANSFORMERS = [
    {"transformer_id": "T1", "feeder_id": "F1", "rated_kva": 10, "valid_from": GIS_DAY},
    {"transformer_id": "T2", "feeder_id": "F1", "rated_kva": 5, "valid_from": GIS_DAY},
    {"transformer_id": "T3", "feeder_id": "F2", "rated_kva": None, "valid_from": GIS_DAY},
    {"transformer_id": "T4", "feeder_id": None, "rated_kva": 25, "valid_from": GIS_DAY},
]
CONNECTIONS = [
    {"meter_id": "A", "transformer_id": "T1", "valid_from": GIS_DAY},
    {"meter_id": "B", "transformer_id": "T1", "valid_from": GIS_DAY},
    {"meter_id": "C", "transformer_id": "T2", "valid_from": GIS_DAY},
    {"meter_id": "D", "transformer_id": "T3", "valid_from": GIS_DAY},
    {"meter_id": "M", "transformer_id": "T1", "valid_from": GIS_DAY},
    {"meter_id": "M", "transformer_id": "T2", "valid_from": at("10:30")},  # moved mid-hour: counts from hour 11
    {"meter_id": "X", "transformer_id": "T404", "valid_from": GIS_DAY},
]
# the second load: U connected to T1 from 11:00, and T3 re-rated (10 kVA) from 11:00
SECOND_CONNECTIONS = [{"meter_id": "U", "transformer_id": "T1", "valid_from": at("11:00")}]
SECOND_TRANSFORMERS = [{"transformer_id": "T3", "feeder_id": "F2", "rated_kva": 10, "valid_from": at("11:00")}]


def readings(*, late: bool = False) -> list[dict]:
    """The meters' readings 10:00..12:00 (without B's 11:15), or with `late` only B's 11:15, arriving a day late."""
    rows = []
    for meter, step in STEPS.items():
        for n in range(9):
            t = at("10:00") + timedelta(minutes=15 * n)
            is_late = (meter, f"{t:%H:%M}") == LATE
            if is_late == late:
                rows.append(
                    {
                        "event_id": f"{meter}-{t:%H%M}",
                        "meter_id": meter,
                        "customer_id": f"C-{meter}",
                        "reading": 1000 + step * n,
                        "timestamp": t,
                        "created_at": t + (timedelta(days=1) if late else timedelta(seconds=10)),
                    }
                )
    return rows


def insert_network(source, table: str, rows: list[dict], created_at: datetime = GIS_DAY) -> None:
    """Rows of a network table (created_at defaults to `created_at`); creates the optional tables first."""
    from orchestration.sources import network_source_ddl

    with connected(source) as conn, conn.cursor() as cur:
        cur.execute(network_source_ddl())
        for row in rows:
            row = {"created_at": created_at, "latitude": None, "longitude": None, **row}
            columns = [c for c in NETWORK_COLUMNS[table] if c in row]
            cur.execute(
                f"insert into {table} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})",
                [row[c] for c in columns],
            )


def assert_hours_add_up_to_the_fleet(warehouse) -> None:
    """The invariant: in every hour, the transformers and 'unconnected' (and so the feeders) add up to the fleet's
    meter energy, and every hour with meter energy has its 'unconnected' row."""
    fleet = dict(
        query(warehouse, "select hour_start, sum(vee_kwh) from marts.fct_meter_consumption_hourly_vee group by 1")
    )
    for mart in ("fct_transformer_loading_hourly", "fct_feeder_loading_hourly"):
        assert dict(query(warehouse, f"select hour_start, sum(energy_kwh) from marts.{mart} group by 1")) == fleet, mart
    unconnected = query(
        warehouse, "select hour_start from marts.fct_transformer_loading_hourly where transformer_id = 'unconnected'"
    )
    assert {h for (h,) in unconnected} == set(fleet)
