"""Load the source tables into the warehouse's raw schema, as-is (SPEC §2).

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
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from psycopg2.errors import UndefinedTable

from orchestration.database import connected, with_retries
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


@dataclass
class TableLoad:
    table: str
    hours_copied: int = 0  # source hours whose fingerprint differed from raw
    rows_copied: int = 0  # rows streamed from the source for those hours
    rows_loaded: int = 0  # rows new to raw
    window_rows: int = 0  # source rows with "timestamp" inside the run's window
    changed_hours: list[str] = field(default_factory=list)  # the hours copied (UTC, ISO), oldest first


@dataclass
class LoadResult:
    load_id: str
    loaded_at: datetime  # the _loaded_at of every row this load wrote (the warehouse's transaction time)
    window_start: datetime
    window_end: datetime
    tables: dict[str, TableLoad]
    seconds: float

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def window_is_empty(self) -> bool:
        return all(t.window_rows == 0 for t in self.tables.values())

    def to_dict(self) -> dict:
        return {
            "load_id": self.load_id,
            "loaded_at": self.loaded_at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "seconds": round(self.seconds, 2),
            "rows_loaded": self.rows_loaded,
            "window_is_empty": self.window_is_empty,
            "tables": {name: asdict(t) for name, t in self.tables.items()},
        }


def raw_ddl() -> str:
    return files("orchestration").joinpath("sql/raw_tables.sql").read_text()


def load_raw(
    warehouse: DbTarget,
    source: DbTarget,
    window_start: datetime,
    window_end: datetime,
    *,
    attempts: int = 5,
    base_delay: float = 2.0,
) -> LoadResult:
    """Make raw hold every source row with "timestamp" < window_end (naive UTC datetimes).

    A whole load is one transaction, so on a connection error it is simply retried (exponential backoff
    with jitter: up to ~30 s in all with the defaults).
    """
    return with_retries(
        lambda: _load_once(warehouse, source, window_start, window_end),
        what=f"loading raw from {source.describe()}",
        attempts=attempts,
        base_delay=base_delay,
    )


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
    return LoadResult(load_id, loaded_at, window_start, window_end, tables, time.monotonic() - started)


# Times Python's datetime cannot hold (psycopg2 reads -infinity as year 1 and raises on BC dates): such rows
# are fingerprinted and copied as one bucket, keyed None, and never pass through Python (COPY is text).
UNREPRESENTABLE_TIMES = """("timestamp" < '0001-01-01' or "timestamp" = 'infinity')"""
INFINITE_FUTURE = """"timestamp" = 'infinity'"""


def _fingerprints(
    cur, relation: str, since: datetime, window_end: datetime, odd: str
) -> dict[datetime | None, tuple[int, int]]:
    cur.execute(
        f"select case when not {odd} then date_trunc('hour', \"timestamp\") end, count(*), sum(id) "
        f'from {relation} where ("timestamp" >= %s and "timestamp" < %s) or {odd} group by 1',
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
    result = TableLoad(table)
    wh_cur.execute("select cleaned_before from raw.retention where table_name = %s", (table,))
    row = wh_cur.fetchone()
    since = row[0] if row else datetime.min  # hours before a retention cleanup stay out of raw
    odd = INFINITE_FUTURE if row else UNREPRESENTABLE_TIMES  # -infinity and BC are before any retention horizon
    try:
        source_hours = _fingerprints(src_cur, table, since, window_end, odd)
    except UndefinedTable:
        raise SourceSchemaError(
            f"the source database has no table {table!r}: is SOURCE_POSTGRES_DB the operational database?"
        ) from None
    raw_hours = _fingerprints(wh_cur, f"raw.{table}", since, window_end, odd)
    result.window_rows = sum(
        n for h, (n, _) in source_hours.items() if h is not None and window_start <= h < window_end
    )
    changed = sorted(h for h, fp in source_hours.items() if h is not None and raw_hours.get(h) != fp)
    odd_changed = source_hours.get(None) != raw_hours.get(None)
    if not changed and not odd_changed:
        log.info("%s: raw already holds every source row before %s", table, window_end.isoformat())
        return result
    result.hours_copied = len(changed) + odd_changed
    result.changed_hours = [h.isoformat() for h in changed]
    columns = ", ".join(f'"{c}"' for c in SOURCE_COLUMNS[table])
    ranges = " or ".join(
        [src_cur.mogrify('("timestamp" >= %s and "timestamp" < %s)', r).decode() for r in hour_ranges(changed)]
        + ([odd] if odd_changed else [])
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
