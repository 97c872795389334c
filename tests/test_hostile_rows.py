"""Hostile and implausible source rows (contract §2-§3): any value the source's column types accept reaches raw
byte for byte and is then aggregated or rejected with a reason; none fails, stalls or wedges a run.

The corpus is salted into a small 3-meter, 1-sensor source and run hour after hour through the whole flow.
Timestamps are written as SQL text, never through Python: psycopg2 cannot represent a BC date and reads
-infinity as year 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestration.db.connection import connected
from orchestration.local.simulator import SimulationConfig, simulate
from tests.helpers import query, scalar

pytestmark = pytest.mark.slow

DAY = datetime(2026, 2, 2)  # a Monday
H10, H11 = DAY + timedelta(hours=10), DAY + timedelta(hours=11)
HOUR = timedelta(hours=1)
ARRIVED = "2026-02-02 11:59:00"  # when every salted row arrived (created_at): after all their plausible times

LONG_ID = "L" * 100  # the widest sensor_id / meter_id / customer_id the source accepts
LONGEST_EVENT = "E" * 255
SQL_ID = "x'); drop table raw.meter_readings; --"
ESCAPES_ID = "tab\there new\nline back\\slash \"dq\" 'sq' \\N \\."  # \N and \. mean something to COPY's text format
UNICODE_ID = "Zähler-⚡-電表-🔌-\u200b"

# (event_id, meter_id, customer_id, reading (SQL numeric text), unit, "timestamp" (SQL text), expected reason)
# None as the reason: valid, so it must be aggregated. Worked out by hand from contract §3's rule order.
METER_CORPUS = [
    ("m-sql-1", SQL_ID, SQL_ID, "10", "kWh", "2026-02-02 10:00", None),
    ("m-sql-2", SQL_ID, SQL_ID, "11", "kWh", "2026-02-02 10:15", None),
    ("m-esc-1", ESCAPES_ID, ESCAPES_ID, "20", "kWh", "2026-02-02 10:00", None),
    ("m-esc-2", ESCAPES_ID, ESCAPES_ID, "20.5", "kWh", "2026-02-02 10:15", None),
    (UNICODE_ID, UNICODE_ID, UNICODE_ID, "1", "kwh", "2026-02-02 10:00", None),
    (UNICODE_ID + "-2", UNICODE_ID, UNICODE_ID, "2", "KWH", "2026-02-02 10:15", None),
    (LONGEST_EVENT, LONG_ID, LONG_ID, "99999999.9999", "kWh", "2026-02-02 10:00", None),  # numeric(12,4) max
    ("m-max-2", LONG_ID, LONG_ID, "99999999.9999", "kWh", "2026-02-02 10:15", None),  # 0 kWh in 15 min
    ("m-min", "M-MIN", "C", "-99999999.9999", "kWh", "2026-02-02 10:00", "negative_reading"),
    ("m-nan", "M-NAN", "C", "NaN", "kWh", "2026-02-02 10:00", "not_a_number"),
    ("m-mwh-max", "M-MWH", "C", "99999999.9999", "MWh", "2026-02-02 10:30", None),  # alone: no interval
    ("m-unit-space", "M-UNIT", "C", "5", " kWh", "2026-02-02 10:00", "unknown_unit"),
    ("m-unit-inner", "M-UNIT", "C", "5", "k Wh", "2026-02-02 10:15", "unknown_unit"),
    ("m-unit-empty", "M-UNIT", "C", "5", "", "2026-02-02 10:30", "unknown_unit"),
    # a reset device clock: 1970 must not become 56 years of interpolated consumption
    ("m-epoch", "M-EPOCH", "C", "0", "kWh", "1970-01-01 00:00", "implausible_timestamp"),
    ("m-epoch-2", "M-EPOCH", "C", "100", "kWh", "2026-02-02 10:00", None),
    ("m-epoch-3", "M-EPOCH", "C", "101", "kWh", "2026-02-02 10:15", None),
    ("m-minus-inf", "M-EPOCH", "C", "1", "kWh", "-infinity", "implausible_timestamp"),
    ("m-plus-inf", "M-EPOCH", "C", "1", "kWh", "infinity", "implausible_timestamp"),
    ("m-bc", "M-EPOCH", "C", "1", "kWh", "0044-03-15 12:00 BC", "implausible_timestamp"),
    ("m-y1", "M-EPOCH", "C", "1", "kWh", "0001-01-01 00:00", "implausible_timestamp"),
    ("m-1999", "M-EPOCH", "C", "1", "kWh", "1999-12-31 23:59:59.999999", "implausible_timestamp"),
]

# (event_id, sensor_id, sensor_type, value, latitude, longitude, "timestamp", metadata (JSON text or None), reason)
SENSOR_CORPUS = [
    ("s-sql", SQL_ID, "voltage", "230", None, None, "2026-02-02 10:05", '{"sql": "\'; drop table x; --"}', None),
    ("s-esc", ESCAPES_ID, "voltage", "231", "-90", "180", "2026-02-02 10:06", '{"k\\tey": "v\\nal\\\\ue"}', None),
    ("s-uni", UNICODE_ID, "frequency", "50", "89.9999999", "-179.9999999", "2026-02-02 10:07", '"⚡"', None),
    ("s-long", LONG_ID, "power", "-99999.9999", "999.9999999", "-999.9999999", "2026-02-02 10:08", "null", None),
    ("s-power-max", LONG_ID, "power", "99999.9999", None, None, "2026-02-02 10:09", "[1, 2.5e308, null, {}]", None),
    ("s-max", "S-X", "voltage", "999999.9999", None, None, "2026-02-02 10:10", "{}", "out_of_range"),
    ("s-min", "S-X", "current", "-999999.9999", None, None, "2026-02-02 10:11", "[]", "out_of_range"),
    ("s-nan", "S-X", "voltage", "NaN", None, None, "2026-02-02 10:12", '{"deep": [[[[[]]]]]}', "not_a_number"),
    ("s-type", "S-X", "voltage ", "230", None, None, "2026-02-02 10:13", None, "unknown_sensor_type"),
    ("s-type-empty", "S-X", "", "230", None, None, "2026-02-02 10:14", None, "unknown_sensor_type"),
    ("s-epoch", "S-X", "voltage", "230", None, None, "1970-01-01 00:00", None, "implausible_timestamp"),
    ("s-minus-inf", "S-X", "voltage", "230", None, None, "-infinity", None, "implausible_timestamp"),
    ("s-plus-inf", "S-X", "voltage", "230", None, None, "infinity", None, "implausible_timestamp"),
    ("s-bc", "S-X", "voltage", "230", None, None, "4713-01-01 00:00 BC", None, "implausible_timestamp"),
]


def _salt(source, meter_rows, sensor_rows) -> None:
    with connected(source) as conn, conn.cursor() as cur:
        for event_id, meter_id, customer_id, reading, unit, ts, _ in meter_rows:
            cur.execute(
                'insert into meter_readings (event_id, meter_id, customer_id, reading, unit, "timestamp", created_at) '
                "values (%s, %s, %s, %s::numeric, %s, %s::timestamp, %s::timestamp)",
                (event_id, meter_id, customer_id, reading, unit, ts, ARRIVED),
            )
        for event_id, sensor_id, kind, value, lat, lon, ts, metadata, _ in sensor_rows:
            cur.execute(
                "insert into sensor_data (event_id, sensor_id, sensor_type, value, latitude, longitude, "
                '"timestamp", metadata, created_at) values '
                "(%s, %s, %s, %s::numeric, %s::numeric, %s::numeric, %s::timestamp, %s::jsonb, %s::timestamp)",
                (event_id, sensor_id, kind, value, lat, lon, ts, metadata, ARRIVED),
            )


def _as_text(target, relation: str, columns: str) -> list[str]:
    """Every row as PostgreSQL's own text form, ordered by id: compares values byte for byte, in SQL."""
    return [r[0] for r in query(target, f"select ({columns})::text from {relation} order by id")]


SENSOR_COLUMNS = 'id, event_id, sensor_id, sensor_type, value, latitude, longitude, "timestamp", metadata, created_at'
METER_COLUMNS = 'id, event_id, meter_id, customer_id, reading, unit, "timestamp", created_at'


def test_the_corpus_is_what_the_source_accepts(fresh_databases):
    """The corpus itself: every row goes into the contract §1 tables, and the odd values are really there."""
    _, source = fresh_databases
    _salt(source, METER_CORPUS, SENSOR_CORPUS)
    assert scalar(source, "select count(*) from meter_readings") == len(METER_CORPUS)
    assert scalar(source, "select count(*) from sensor_data") == len(SENSOR_CORPUS)
    assert query(
        source,
        'select count(*) filter (where not isfinite("timestamp")), '
        "count(*) filter (where \"timestamp\" < '0001-01-01'), count(*) filter (where reading = 'NaN'), "
        "max(length(meter_id)), max(length(event_id)) from meter_readings",
    ) == [(2, 2, 1, 100, 255)]


def test_salted_source_run_hour_after_hour_never_fails_and_accounts_for_every_row(
    settings, fresh_databases, prefect_api
):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = fresh_databases
    # the 3-meter, 1-sensor source of 09:00 .. 12:00, without defects
    simulate(source, H10 - timedelta(hours=1), H11 + timedelta(hours=1), SimulationConfig(3, 1, 5, 0.0), now=H11 + HOUR)
    # half the corpus is there for the first run, the rest "arrives late", before the second
    _salt(source, METER_CORPUS[::2], SENSOR_CORPUS[::2])
    first = smartgrid_etl_flow(start_time=H10, end_time=H11)
    _salt(source, METER_CORPUS[1::2], SENSOR_CORPUS[1::2])
    second = smartgrid_etl_flow(start_time=H11, end_time=H11 + timedelta(hours=1))
    for result in (first, second):
        assert result.dbt.success and result.checkpoint.success, result.checkpoint

    # contract §2: every source row is in raw, each value unchanged (compared as PostgreSQL text, not via Python)
    assert _as_text(warehouse, "raw.meter_readings", METER_COLUMNS) == _as_text(source, "meter_readings", METER_COLUMNS)
    assert _as_text(warehouse, "raw.sensor_data", SENSOR_COLUMNS) == _as_text(source, "sensor_data", SENSOR_COLUMNS)

    # contract §3: each salted row is rejected with the reason worked out above, or aggregated
    rejected = dict(query(warehouse, "select event_id, reason_code from audit.rejected_readings"))
    for row in METER_CORPUS + SENSOR_CORPUS:
        assert rejected.get(row[0]) == row[-1], (row[0], rejected.get(row[0]), row[-1])
    valid_meter_readings = {}
    for _, meter_id, *_, reason in METER_CORPUS:
        valid_meter_readings[meter_id] = valid_meter_readings.get(meter_id, 0) + (reason is None)
    counted = dict(
        query(warehouse, "select meter_id, sum(reading_count)::int from marts.fct_meter_consumption_hourly group by 1")
    )
    for meter_id, valid in valid_meter_readings.items():
        if valid >= 2:  # a meter needs two valid readings for an interval, hence a mart row
            assert counted.get(meter_id) == valid, meter_id
    # the hostile ids keep their exact bytes in the marts: 1 kWh, 0.5 kWh, 1 kWh (Unicode) and 0 kWh (the maximum)
    consumption = dict(
        query(warehouse, "select meter_id, sum(consumption_kwh) from marts.fct_meter_consumption_hourly group by 1")
    )
    assert {m: consumption.get(m) for m in (SQL_ID, ESCAPES_ID, UNICODE_ID, LONG_ID, "M-EPOCH")} == {
        SQL_ID: 1,
        ESCAPES_ID: 0.5,
        UNICODE_ID: 1,
        LONG_ID: 0,
        "M-EPOCH": 1,
    }
    for _, sensor_id, kind, value, *_, ts, _, reason in SENSOR_CORPUS:
        if reason is None:
            hour = datetime.fromisoformat(ts).replace(minute=0)
            low, high = query(
                warehouse,
                "select min_value, max_value from marts.fct_sensor_hourly "
                "where sensor_id = %s and sensor_type = %s and hour_start = %s at time zone 'UTC'",
                (sensor_id, kind, hour),
            )[0]
            assert low <= float(value) <= high, sensor_id
    # the reset clock made no 1970 hours: every mart row lies on the simulated day
    assert query(
        warehouse,
        "select min(hour_start at time zone 'UTC')::date, max(hour_start at time zone 'UTC')::date "
        "from marts.fct_meter_consumption_hourly_vee",
    ) == [(DAY.date(), DAY.date())]

    # and once everything is loaded, the next hour has nothing to copy again: no bucket keeps differing
    third = smartgrid_etl_flow(start_time=H11 + timedelta(hours=1), end_time=H11 + timedelta(hours=2))
    assert third.load.rows_loaded == 0
    assert all(t.hours_copied == 0 for t in third.load.tables.values()), third.load.model_dump_json()
