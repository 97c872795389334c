"""Small helpers shared by the tests: write source rows, query, build with dbt."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta
from decimal import Decimal

from orchestration.db.connection import connected
from orchestration.local.docs_site import CHROMIUM_FLAGS
from orchestration.local.simulator import SimulationConfig
from orchestration.sources import SOURCE_COLUMNS, source_ddl
from orchestration.steps.dbt_runner import run_dbt
from tests import reference

T0 = datetime(2026, 3, 10)  # a fixed, ordinary UTC day for hand-worked datasets
# conftest's three_days: a small simulated fleet in the source from THREE_DAYS_START, a Monday, for three days
THREE_DAYS_START = datetime(2026, 4, 6)
THREE_DAYS_FLEET = SimulationConfig(meters=3, sensors=1, seed=99, defect_rate=0.03)
# conftest's one_day (the fault tests): another small fleet from ONE_DAY_START, a Monday, for one day
ONE_DAY_START = datetime(2026, 4, 13)
ONE_DAY_FLEET = SimulationConfig(meters=3, sensors=1, seed=41, defect_rate=0.03)


def at(hhmm: str, day: datetime = T0) -> datetime:
    """'10:45' -> that time on `day` (naive UTC); '+1 10:45' is the next day, '-3 10:45' three days before."""
    offset = 0
    if hhmm[0] in "+-":
        offset_text, hhmm = hhmm.split(" ")
        offset = int(offset_text)
    hours, minutes = hhmm.split(":")
    return day + timedelta(days=offset, hours=int(hours), minutes=int(minutes))


def create_source_tables(source) -> None:
    with connected(source) as conn, conn.cursor() as cur:
        cur.execute(source_ddl())


def insert_sensor_rows(source, rows: list[dict]) -> None:
    """rows: event_id, sensor_id, sensor_type, value, timestamp [, created_at, id, latitude, longitude, metadata]."""
    _insert(
        source,
        "sensor_data",
        [{**row, "metadata": json.dumps(row["metadata"])} if row.get("metadata") else row for row in rows],
    )


def insert_meter_rows(source, rows: list[dict]) -> None:
    """rows: event_id, meter_id, customer_id, reading, timestamp [, unit, created_at, id]."""
    _insert(source, "meter_readings", rows)


def insert_implausible_meter_jump(source, hour: datetime) -> None:
    """6 MWh in 15 minutes on one meter (MX of customer CX): valid per docs/data-contract.md §3, but more than the
    checkpoint's 5 MWh per meter-hour, so the Great Expectations checkpoint fails on that hour."""
    insert_meter_rows(
        source,
        [
            {"event_id": "jump-1", "meter_id": "MX", "customer_id": "CX", "reading": 100, "timestamp": hour},
            {
                "event_id": "jump-2",
                "meter_id": "MX",
                "customer_id": "CX",
                "reading": 6100,
                "timestamp": hour + timedelta(minutes=15),
            },
        ],
    )


def _insert(source, table: str, rows: list[dict]) -> None:
    """Insert rows given as dicts, one insert statement per row in the given order (ids are assigned in it);
    created_at defaults to 10 s after "timestamp". Consecutive rows with the same columns go to the server in
    pages of statements (execute_batch), not one round trip each."""
    from itertools import groupby

    from psycopg2.extras import execute_batch

    rows = [{"created_at": row["timestamp"] + timedelta(seconds=10), **row} for row in rows]
    with connected(source) as conn, conn.cursor() as cur:
        for columns, group in groupby(rows, key=lambda row: tuple(c for c in SOURCE_COLUMNS[table] if c in row)):
            names, values = ", ".join(map(_quote, columns)), ", ".join(["%s"] * len(columns))
            statement = f"insert into {table} ({names}) values ({values})"
            execute_batch(cur, statement, [[row[c] for c in columns] for row in group], page_size=500)


def _quote(column: str) -> str:
    return f'"{column}"'


def query(target, sql: str, params=None) -> list[tuple]:
    with connected(target) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def scalar(target, sql: str, params=None):
    return query(target, sql, params)[0][0]


NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def build(settings, warehouse, *args: str, unit_tests: bool = False):
    """`dbt build` with dbt's own runner (no Prefect needed); raises DbtFailure on any failure.

    Without the dbt unit tests unless `unit_tests`: they do not read the warehouse's rows, and were 4 of a small
    build's 6.6 s. They run in tests/test_properties.py's two builds, on every `make test`."""
    return run_dbt(settings, warehouse, "build", *args, *(() if unit_tests else NO_UNIT_TESTS), prefect=False)


def edited_project(settings, tmp_path, model: str, edit):
    """An analyst's edit, in a copy of the dbt project under tmp_path (the repository stays as it is): the model
    file `model` (under models/) rewritten by `edit(sql)`; returns settings whose dbt commands use the copy."""
    import shutil

    copy = tmp_path / "dbt_smartgrid"
    shutil.copytree(settings.dbt_project_dir, copy, ignore=shutil.ignore_patterns("target", "logs"))
    path = copy / "models" / model
    path.write_text(edit(path.read_text()))
    return settings.model_copy(update={"repo_root": tmp_path})


MART_KEYS = {
    "fct_sensor_hourly": ("sensor_id", "sensor_type", "hour_start"),
    "fct_meter_consumption_hourly": ("meter_id", "hour_start"),
    "fct_meter_consumption_hourly_vee": ("meter_id", "hour_start"),
    "fct_customer_consumption_daily": ("customer_id", "day"),
    "fct_customer_consumption_daily_local": ("customer_id", "local_day"),
}


def mart_rows(warehouse, mart: str) -> dict[tuple, dict]:
    """A mart as {key: row}, without the pipeline's bookkeeping column."""
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute(f"select * from marts.{mart}")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    keys = MART_KEYS[mart]
    return {tuple(row[k] for k in keys): {k: v for k, v in row.items() if k != "loaded_through"} for row in rows}


def d(value) -> Decimal:
    return Decimal(str(value))


def raw_rows(warehouse, table):
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute(f"select * from raw.{table}")
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


LOCAL_ZONE = "Europe/Berlin"  # dbt_project.yml's local_time_zone


def assert_marts_match_the_contract(warehouse):
    sensors = raw_rows(warehouse, "sensor_data")
    meters = raw_rows(warehouse, "meter_readings")
    expected_sensor = reference.sensor_hourly(sensors)
    actual_sensor = mart_rows(warehouse, "fct_sensor_hourly")
    assert set(actual_sensor) == set(expected_sensor)
    for key, exp in expected_sensor.items():
        act = actual_sensor[key]
        for column, value in exp.items():
            assert reference.close(act[column], value), (key, column, act[column], value)

    expected_meter = reference.meter_hourly(meters)
    actual_meter = mart_rows(warehouse, "fct_meter_consumption_hourly")
    assert set(actual_meter) == set(expected_meter)
    for key, exp in expected_meter.items():
        act = actual_meter[key]
        assert (act["customer_id"], act["reading_count"], act["quality_code"]) == (
            exp["customer_id"],
            exp["reading_count"],
            exp["quality_code"],
        ), key
        assert reference.close(act["consumption_kwh"], exp["consumption_kwh"]), key
        assert reference.close(act["estimated_kwh"], exp["estimated_kwh"]), key

    for mart, zone in (("fct_customer_consumption_daily", None), ("fct_customer_consumption_daily_local", LOCAL_ZONE)):
        expected_daily = reference.customer_daily(expected_meter, zone)
        actual_daily = mart_rows(warehouse, mart)
        assert set(actual_daily) == set(expected_daily), mart
        for key, exp in expected_daily.items():
            assert actual_daily[key]["meter_count"] == exp["meter_count"], (mart, key)
            assert reference.close(actual_daily[key]["consumption_kwh"], exp["consumption_kwh"]), (mart, key)
            assert reference.close(actual_daily[key]["estimated_kwh"], exp["estimated_kwh"]), (mart, key)
    return len(actual_sensor), len(actual_meter), len(actual_daily)


def rendered_page(chromium: str, url: str, wait_for: str, attempts: int = 5) -> str:
    """The DOM of `url` after headless Chromium ran its scripts; retried until `wait_for` shows up."""
    import subprocess
    import tempfile
    import time

    dom = ""
    for _ in range(attempts):
        with tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run(
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={profile}",
                    "--virtual-time-budget=30000",
                    "--dump-dom",
                    url,
                ],
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
        if wait_for in dom:
            break
        time.sleep(3)
    return dom


def assert_raw_holds_each_source_row_once(warehouse, source) -> None:
    """docs/data-contract.md §2: every source row is in raw, exactly once (and raw holds nothing else)."""
    for table in SOURCE_COLUMNS:
        raw_ids = [r[0] for r in query(warehouse, f"select event_id from raw.{table} order by event_id")]
        source_ids = [r[0] for r in query(source, f"select event_id from {table} order by event_id")]
        assert raw_ids == source_ids, (table, len(raw_ids), len(source_ids))


def harness_env() -> dict:
    """The environment for a child process that talks to the session's Prefect API (conftest's prefect_api)."""
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}


def cli_run(start: str | datetime, end: str | datetime, *options: str) -> list[str]:
    """The command line of `smartgrid run` over [start, end) in this interpreter; times as ISO 8601 text."""
    start, end = (t if isinstance(t, str) else t.isoformat() for t in (start, end))
    return [sys.executable, "-m", "orchestration.cli", "run", "--start", start, "--end", end, *options]


def raw_snapshot(warehouse) -> dict[str, list]:
    """Each raw table's event ids, in order."""
    return {t: query(warehouse, f"select event_id from raw.{t} order by 1") for t in SOURCE_COLUMNS}
