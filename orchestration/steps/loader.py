"""Load the source tables into the warehouse's raw schema, as-is (docs/data-contract.md §2).

How new rows are found: rows commit out of order in the source, so neither `id` nor `created_at` is a safe
watermark. Instead, for every source hour before the window's end, a fingerprint (row count, sum of ids) is
compared with the same fingerprint over raw; the rows of every hour that differs are streamed with COPY from
the source into a temporary table of the warehouse and inserted with `on conflict (event_id) do nothing`.
A late row for a month-old hour changes that hour's fingerprint, so it is found the next run.

All of a load happens in one warehouse transaction under an advisory lock: a load killed half-way leaves raw
as it was, and overlapping loads queue instead of interleaving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from psycopg2.errors import UndefinedTable

from orchestration.db.connection import connected
from orchestration.results.model import LoadResult, TableLoad
from orchestration.settings import DbTarget

log = logging.getLogger(__name__)

SOURCE_COLUMNS = {
    "sensor_data": (
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
    ),
    "meter_readings": (
        "id",
        "event_id",
        "meter_id",
        "customer_id",
        "reading",
        "unit",
        "timestamp",
        "created_at",
    ),
}
LOAD_LOCK_KEY = 5_317_001  # pg_advisory_xact_lock key that serialises loads into raw
LOCK_TIMEOUT = "15min"


class SourceSchemaError(RuntimeError):
    """The source database lacks a table the contract names."""


def raw_ddl() -> str:
    return files("orchestration").joinpath("sql/raw_tables.sql").read_text()


def load_raw(warehouse: DbTarget, source: DbTarget, window_start: datetime, window_end: datetime) -> LoadResult:
    """Make raw hold every source row with "timestamp" < window_end (naive UTC datetimes).

    A whole load is one transaction, so on a connection error it can simply run again: the flow's load task
    does that with Prefect's retries (exponential backoff with jitter).
    """
    return _load_once(warehouse, source, window_start, window_end)


def _load_once(warehouse: DbTarget, source: DbTarget, window_start: datetime, window_end: datetime) -> LoadResult:
    started = time.monotonic()
    started_at = datetime.now(UTC)
    load_id = str(uuid.uuid4())
    tables: dict[str, TableLoad] = {}
    with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as wh_cur:
        wh_cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
        wh_cur.execute("select pg_advisory_xact_lock(%s)", (LOAD_LOCK_KEY,))
        wh_cur.execute(raw_ddl())
        wh_cur.execute("select now()")
        loaded_at = wh_cur.fetchone()[0]
        with connected(source, application="smartgrid-loader") as src:
            src.set_session(isolation_level="REPEATABLE READ", readonly=True)  # one snapshot for all
            with src.cursor() as src_cur:
                for table in SOURCE_COLUMNS:
                    tables[table] = _load_table(src_cur, wh_cur, table, window_start, window_end, load_id)
        for t in tables.values():
            wh_cur.execute(
                "insert into raw.load_log values (%s, %s, clock_timestamp(), %s, %s, %s, %s, %s)",
                (load_id, started_at, window_end, t.table, t.hours_copied, t.rows_copied, t.rows_loaded),
            )
    return LoadResult(
        load_id=load_id,
        loaded_at=loaded_at,
        window_start=window_start,
        window_end=window_end,
        seconds=time.monotonic() - started,
        tables=tables,
    )


def _fingerprints(cur, relation: str, since: datetime, window_end: datetime) -> dict[datetime, tuple[int, int]]:
    cur.execute(
        f"select date_trunc('hour', \"timestamp\"), count(*), sum(id) from {relation} "
        f'where "timestamp" >= %s and "timestamp" < %s group by 1',
        (since, window_end),
    )
    return {hour: (count, int(id_sum)) for hour, count, id_sum in cur.fetchall()}


def hour_ranges(hours: list[datetime]) -> list[tuple[datetime, datetime]]:
    """Merge sorted hour starts into [start, end) ranges of consecutive hours."""
    ranges: list[list[datetime]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + timedelta(hours=1)
        else:
            ranges.append([hour, hour + timedelta(hours=1)])
    return [(lo, hi) for lo, hi in ranges]


def _load_table(src_cur, wh_cur, table, window_start, window_end, load_id) -> TableLoad:
    result = TableLoad(table=table)
    wh_cur.execute("select cleaned_before from raw.retention where table_name = %s", (table,))
    row = wh_cur.fetchone()
    since = row[0] if row else datetime.min  # hours before a retention cleanup stay out of raw
    try:
        source_hours = _fingerprints(src_cur, table, since, window_end)
    except UndefinedTable:
        raise SourceSchemaError(
            f"the source database has no table {table!r}: is SOURCE_POSTGRES_DB the operational database?"
        ) from None
    raw_hours = _fingerprints(wh_cur, f"raw.{table}", since, window_end)
    result.window_rows = sum(n for h, (n, _) in source_hours.items() if window_start <= h < window_end)
    changed = sorted(h for h, fingerprint in source_hours.items() if raw_hours.get(h) != fingerprint)
    if not changed:
        log.info("%s: raw already holds every source row before %s", table, window_end.isoformat())
        return result
    result.hours_copied = len(changed)
    result.changed_hours = [h.isoformat() for h in changed]
    columns = ", ".join(f'"{c}"' for c in SOURCE_COLUMNS[table])
    ranges = " or ".join(
        src_cur.mogrify('("timestamp" >= %s and "timestamp" < %s)', r).decode() for r in hour_ranges(changed)
    )
    log.info("%s: %d source hour(s) differ from raw, copying them", table, len(changed))
    wh_cur.execute(
        f"create temp table incoming_{table} on commit drop as select {columns} from raw.{table} with no data"
    )
    copy_out = f"copy (select {columns} from {table} where {ranges}) to stdout"
    copy_in = f"copy incoming_{table} ({columns}) from stdin"
    result.rows_copied = stream_copy(src_cur, copy_out, wh_cur, copy_in)
    wh_cur.execute(
        f"insert into raw.{table} ({columns}, _load_id, _loaded_at) "
        f"select {columns}, %s, now() from incoming_{table} on conflict (event_id) do nothing",
        (load_id,),
    )
    result.rows_loaded = wh_cur.rowcount
    log.info("%s: copied %d row(s), %d new to raw", table, result.rows_copied, result.rows_loaded)
    return result


def stream_copy(src_cur, copy_out: str, dst_cur, copy_in: str) -> int:
    """Stream `COPY ... TO STDOUT` on one connection into `COPY ... FROM STDIN` on another.

    The rows pass through an OS pipe, never all in memory. If the reading side fails, the error is
    raised here before the caller can use the partly filled destination.
    """
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as sink:
                src_cur.copy_expert(copy_out, sink, size=1 << 16)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    producer = threading.Thread(target=produce, name="copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            dst_cur.copy_expert(copy_in, pipe, size=1 << 16)
    finally:
        producer.join()
    if errors:
        raise errors[0]
    return dst_cur.rowcount
