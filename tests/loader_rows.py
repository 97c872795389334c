"""Source rows for the loader's tests (test_loader, test_loader_copies, test_reconcile_sweep), and what raw holds."""

from __future__ import annotations

from tests.helpers import at, query


def sensor(event_id, hhmm, value=230.5, **extra):
    return {
        "event_id": event_id,
        "sensor_id": "S1",
        "sensor_type": "voltage",
        "value": value,
        "timestamp": at(hhmm),
        **extra,
    }


def meter(event_id, hhmm, reading=10.0, **extra):
    return {"event_id": event_id, "meter_id": "M1", "customer_id": "C1", "reading": reading,
            "timestamp": at(hhmm), **extra}  # fmt: skip


def raw_event_ids(warehouse, table):
    return sorted(r[0] for r in query(warehouse, f"select event_id from raw.{table}"))
