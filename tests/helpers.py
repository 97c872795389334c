"""Small helpers shared by the tests: write source rows, query, build with dbt."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from orchestration.database import connected
from orchestration.dbt_runner import run_dbt
from orchestration.simulator import source_ddl

T0 = datetime(2026, 3, 10)  # a fixed, ordinary UTC day for hand-worked datasets


def at(hhmm: str, day: datetime = T0) -> datetime:
    """'10:45' -> that time on `day` (naive UTC); '+1 10:45' is the next day."""
    offset = 0
    if hhmm.startswith("+"):
        offset_text, hhmm = hhmm[1:].split(" ")
        offset = int(offset_text)
    hours, minutes = hhmm.split(":")
    return day + timedelta(days=offset, hours=int(hours), minutes=int(minutes))


def create_source_tables(source) -> None:
    with connected(source) as conn, conn.cursor() as cur:
        cur.execute(source_ddl())


def insert_sensor_rows(source, rows: list[dict]) -> None:
    """rows: event_id, sensor_id, sensor_type, value, timestamp [, created_at, id, latitude, longitude, metadata]."""
    with connected(source) as conn, conn.cursor() as cur:
        for row in rows:
            row = {"latitude": None, "longitude": None, "metadata": None, **row}
            row.setdefault("created_at", row["timestamp"] + timedelta(seconds=10))
            columns = [
                c
                for c in (
                    "id",
                    "event_id",
                    "sensor_id",
                    "sensor_type",
                    "value",
                    "latitude",
                    "longitude",
                    "timestamp",
                    "metadata",
                    "created_at",
                )
                if c in row
            ]
            values = [json.dumps(row[c]) if c == "metadata" and row[c] is not None else row[c] for c in columns]
            cur.execute(
                f"insert into sensor_data ({', '.join(map(_quote, columns))}) "
                f"values ({', '.join(['%s'] * len(columns))})",
                values,
            )


def insert_meter_rows(source, rows: list[dict]) -> None:
    """rows: event_id, meter_id, customer_id, reading, timestamp [, unit, created_at, id]."""
    with connected(source) as conn, conn.cursor() as cur:
        for row in rows:
            row = dict(row)
            row.setdefault("created_at", row["timestamp"] + timedelta(seconds=10))
            columns = [
                c
                for c in ("id", "event_id", "meter_id", "customer_id", "reading", "unit", "timestamp", "created_at")
                if c in row
            ]
            cur.execute(
                f"insert into meter_readings ({', '.join(map(_quote, columns))}) "
                f"values ({', '.join(['%s'] * len(columns))})",
                [row[c] for c in columns],
            )


def _quote(column: str) -> str:
    return f'"{column}"'


def query(target, sql: str, params=None) -> list[tuple]:
    with connected(target) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def scalar(target, sql: str, params=None):
    return query(target, sql, params)[0][0]


def build(settings, warehouse, *args: str):
    """`dbt build` with dbt's own runner (no Prefect needed); raises DbtFailure on any failure."""
    return run_dbt(settings, warehouse, "build", *args, prefect=False)


MART_KEYS = {
    "fct_sensor_hourly": ("sensor_id", "sensor_type", "hour_start"),
    "fct_meter_consumption_hourly": ("meter_id", "hour_start"),
    "fct_meter_consumption_hourly_vee": ("meter_id", "hour_start"),
    "fct_customer_consumption_daily": ("customer_id", "day"),
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
