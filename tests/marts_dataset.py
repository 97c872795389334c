"""The marts' hand-worked dataset (docs/data-contract.md §3-§4): source rows whose every mart number is worked out
in comments, and the meter hours they give. Built by conftest's `marts_built`; read by tests/test_marts*.py.

All times are on 2026-03-10, UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import at, d

END = datetime(2026, 3, 11)


def h(hhmm: str) -> datetime:
    """An hour start as the marts store it (timestamptz, UTC)."""
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
