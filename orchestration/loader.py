"""Load the source tables into the warehouse's raw schema, as-is (docs/data-contract.md §2).

How new rows are found, at a cost that follows the new rows, not the history:
- Hours near the window's end are reconciled exactly: for every source hour from the horizon start
  (`reconcile_hours` before the window's end, never later than the window's start or the previous load's
  end) a fingerprint (row count, sum of ids) is compared with raw's fingerprint of that hour, which the loader
  keeps in raw.hour_fingerprints as it inserts; the rows of every hour that differs are copied. Rows commit
  out of order in the source, so ids alone are not a safe watermark there.
- Older hours are found by id: every source row with an id above the highest id the previous load saw is
  copied, whatever its "timestamp" (late arrivals for hours days old, and timestamps no hour can hold:
  -infinity, infinity, BC dates). Only a row that is older than the horizon *and* committed after a row with a
  higher id had already been loaded waits for the next full reconciliation (every hour again; the daily run
  does it).

Rows travel as binary COPY through an OS pipe into a temporary table and are inserted with `on conflict
(event_id) do nothing`. Timestamps stay in PostgreSQL: hours are handled as epoch seconds, so a value the
Python driver cannot represent (-infinity, BC) cannot stop a load. The two tables load in parallel, each in
one warehouse transaction under its own advisory lock: a load killed half-way leaves that table as it was,
and overlapping loads queue instead of interleaving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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
LOAD_LOCK_KEYS = {"sensor_data": 5_317_001, "meter_readings": 5_317_003}  # pg_advisory_xact_lock per raw table
SCHEMA_LOCK_KEY = 5_317_004  # serialises raw's DDL (concurrent `create ... if not exists` collide in pg_type)
LOCK_TIMEOUT = "15min"
DEFAULT_RECONCILE_HOURS = 3
HOUR_SECONDS = 3600.0


class SourceSchemaError(RuntimeError):
    """The source database lacks a table the contract names."""


@dataclass
class TableLoad:
    table: str
    hours_copied: int = 0  # source hours whose fingerprint differed from raw
    rows_copied: int = 0  # rows streamed from the source (changed hours, and rows above the previous id)
    rows_loaded: int = 0  # rows new to raw
    window_rows: int = 0  # source rows with "timestamp" inside the run's window
    changed_hours: list[str] = field(default_factory=list)  # the hours copied (UTC, ISO), oldest first
    reconciled_from: str = ""  # where this load's hour-by-hour reconciliation began (UTC, ISO)
    source_max_id: int = 0  # the highest source id this load saw


@dataclass
class LoadResult:
    load_id: str
    loaded_at: datetime  # the earliest _loaded_at this load wrote (each table's transaction time)
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
    reconcile_hours: int = DEFAULT_RECONCILE_HOURS,
    full_reconcile: bool = False,
    attempts: int = 5,
    base_delay: float = 2.0,
) -> LoadResult:
    """Make raw hold every source row with "timestamp" < window_end (naive UTC datetimes).

    Both tables load in parallel; each table's load is one transaction, so on a connection error it is simply
    retried (exponential backoff with jitter: up to ~30 s in all with the defaults). `full_reconcile` compares
    every hour of history instead of the last `reconcile_hours`.
    """
    started = time.monotonic()
    load_id = str(uuid.uuid4())
    with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        cur.execute(raw_ddl())  # once, before the two tables' transactions start

    def load(table: str) -> tuple[TableLoad, datetime]:
        return with_retries(
            lambda: _load_table(
                warehouse, source, table, window_start, window_end, load_id, reconcile_hours, full_reconcile
            ),
            what=f"loading raw.{table} from {source.describe()}",
            attempts=attempts,
            base_delay=base_delay,
        )

    with ThreadPoolExecutor(max_workers=len(SOURCE_COLUMNS), thread_name_prefix="load") as pool:
        loads = dict(zip(SOURCE_COLUMNS, pool.map(load, SOURCE_COLUMNS), strict=True))
    tables = {table: table_load for table, (table_load, _) in loads.items()}
    loaded_at = min(at for _, at in loads.values())
    return LoadResult(load_id, loaded_at, window_start, window_end, tables, time.monotonic() - started)


def _load_table(
    warehouse: DbTarget,
    source: DbTarget,
    table: str,
    window_start: datetime,
    window_end: datetime,
    load_id: str,
    reconcile_hours: int,
    full_reconcile: bool,
) -> tuple[TableLoad, datetime]:
    started_at = datetime.now(UTC)
    result = TableLoad(table)
    with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as wh_cur:
        wh_cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
        wh_cur.execute("select pg_advisory_xact_lock(%s)", (LOAD_LOCK_KEYS[table],))
        wh_cur.execute("select now()")
        loaded_at = wh_cur.fetchone()[0]
        since, above_id = _reconciliation_start(wh_cur, table, window_start, window_end, reconcile_hours)
        if full_reconcile:
            since, above_id = _cleaned_before(wh_cur, table), None
        with connected(source, application="smartgrid-loader") as src:
            src.set_session(isolation_level="REPEATABLE READ", readonly=True)  # one snapshot for the table
            with src.cursor() as src_cur:
                try:
                    src_cur.execute(f"select coalesce(max(id), 0) from {table}")
                except UndefinedTable:
                    raise SourceSchemaError(
                        f"the source database has no table {table!r}: is SOURCE_POSTGRES_DB the operational database?"
                    ) from None
                result.source_max_id = src_cur.fetchone()[0]
                source_hours = _source_fingerprints(src_cur, table, since, window_end)
                raw_hours = _raw_fingerprints(wh_cur, table, since, window_end)
                start_epoch, end_epoch = _epoch(window_start), _epoch(window_end)
                result.window_rows = sum(n for h, (n, _) in source_hours.items() if start_epoch <= h < end_epoch)
                changed = sorted(h for h, fingerprint in source_hours.items() if raw_hours.get(h) != fingerprint)
                result.hours_copied = len(changed)
                result.changed_hours = [_iso(h) for h in changed]
                result.reconciled_from = "-infinity" if since is None else since.isoformat()
                predicate = _rows_to_copy(src_cur, changed, since, above_id)
                if predicate:
                    result.rows_copied, result.rows_loaded = _copy_into_raw(src_cur, wh_cur, table, predicate, load_id)
        wh_cur.execute(
            "insert into raw.load_log (load_id, started_at, finished_at, window_end, table_name, hours_copied, "
            "rows_copied, rows_loaded, source_max_id) values (%s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s)",
            (
                load_id,
                started_at,
                window_end,
                table,
                result.hours_copied,
                result.rows_copied,
                result.rows_loaded,
                result.source_max_id,
            ),
        )
    log.info(
        "%s: %d hour(s) reconciled from %s differed; copied %d row(s), %d new to raw",
        table,
        len(changed),
        result.reconciled_from,
        result.rows_copied,
        result.rows_loaded,
    )
    return result, loaded_at


def _cleaned_before(wh_cur, table: str) -> datetime | None:
    wh_cur.execute("select cleaned_before from raw.retention where table_name = %s", (table,))
    row = wh_cur.fetchone()
    return row[0] if row else None


def _reconciliation_start(
    wh_cur, table: str, window_start: datetime, window_end: datetime, reconcile_hours: int
) -> tuple[datetime | None, int | None]:
    """(since, above_id): reconcile hours from `since` (None: all of history) hour by hour, and copy every row
    with an id above `above_id` (None: no such rule, everything is reconciled by hour)."""
    wh_cur.execute(
        "select window_end, source_max_id from raw.load_log where table_name = %s and source_max_id is not null "
        "order by finished_at desc limit 1",
        (table,),
    )
    previous = wh_cur.fetchone()
    cleaned_before = _cleaned_before(wh_cur, table)
    if previous is None:
        return cleaned_before, None  # the first load: every hour
    previous_end, previous_max_id = previous
    since = min(window_start, window_end - timedelta(hours=reconcile_hours), previous_end)
    if cleaned_before is not None:
        since = max(since, cleaned_before)  # hours before a retention cleanup stay out of raw
    return since, previous_max_id


def _epoch(value: datetime) -> float:
    return (value - datetime(1970, 1, 1)).total_seconds()


def _iso(epoch: float) -> str:
    if epoch in (float("inf"), float("-inf")):
        return "infinity" if epoch > 0 else "-infinity"
    try:
        return (datetime(1970, 1, 1) + timedelta(seconds=epoch)).isoformat()
    except OverflowError:  # before year 1: Python has no such datetime, PostgreSQL does
        return f"{epoch:.0f} seconds from 1970"


def _source_fingerprints(cur, table: str, since: datetime | None, window_end: datetime) -> dict:
    """{hour as epoch seconds: (rows, sum of ids)} for source hours in [since, window_end)."""
    cur.execute(
        f"select extract(epoch from date_trunc('hour', \"timestamp\"))::float8, count(*), sum(id) from {table} "
        f'where "timestamp" >= coalesce(%s, \'-infinity\'::timestamp) and "timestamp" < %s group by 1',
        (since, window_end),
    )
    return {hour: (count, int(id_sum)) for hour, count, id_sum in cur.fetchall()}


def _raw_fingerprints(cur, table: str, since: datetime | None, window_end: datetime) -> dict:
    """The same fingerprints for raw, from the table the loader keeps as it inserts (no scan of raw)."""
    cur.execute(
        "select extract(epoch from hour)::float8, row_count, id_sum from raw.hour_fingerprints "
        "where table_name = %s and hour >= coalesce(%s, '-infinity'::timestamp) and hour < %s",
        (table, since, window_end),
    )
    return {hour: (count, int(id_sum)) for hour, count, id_sum in cur.fetchall()}


def hour_ranges(hours: list[float]) -> list[tuple[float, float]]:
    """Merge sorted hour starts (epoch seconds) into [start, end) ranges of consecutive hours."""
    ranges: list[list[float]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + HOUR_SECONDS
        else:
            ranges.append([hour, hour + HOUR_SECONDS])
    return [(lo, hi) for lo, hi in ranges]


def _rows_to_copy(cur, changed: list[float], since: datetime | None, above_id: int | None) -> str:
    """The source rows to copy, as a SQL condition: the changed hours, and rows above the previous id that lie
    before the reconciled hours (or at +infinity, which no hour holds)."""
    conditions = []
    for low, high in hour_ranges([h for h in changed if abs(h) != float("inf")]):
        conditions.append(
            cur.mogrify(
                "(\"timestamp\" >= 'epoch'::timestamp + %s * interval '1 second' "
                "and \"timestamp\" < 'epoch'::timestamp + %s * interval '1 second')",
                (low, high),
            ).decode()
        )
    if float("-inf") in changed:
        conditions.append("\"timestamp\" = '-infinity'")
    if above_id is not None:
        conditions.append(
            cur.mogrify('(id > %s and ("timestamp" < %s or "timestamp" = \'infinity\'))', (above_id, since)).decode()
        )
    elif since is None:
        conditions.append("\"timestamp\" = 'infinity'")
    return " or ".join(conditions)


def _copy_into_raw(src_cur, wh_cur, table: str, predicate: str, load_id: str) -> tuple[int, int]:
    """Stream the matching source rows into raw; return (rows copied, rows new to raw)."""
    columns = ", ".join(f'"{c}"' for c in SOURCE_COLUMNS[table])
    wh_cur.execute(
        f"create temp table incoming_{table} on commit drop as select {columns} from raw.{table} with no data"
    )
    copied = stream_copy(
        src_cur,
        f"copy (select {columns} from {table} where {predicate}) to stdout (format binary)",
        wh_cur,
        f"copy incoming_{table} ({columns}) from stdin (format binary)",
    )
    wh_cur.execute(
        f"""
        with inserted as (
            insert into raw.{table} ({columns}, _load_id, _loaded_at)
            select {columns}, %s, now() from incoming_{table}
            on conflict (event_id) do nothing
            returning "timestamp", id
        ),
        fingerprints as (
            insert into raw.hour_fingerprints as kept (table_name, hour, row_count, id_sum)
            select %s, date_trunc('hour', "timestamp"), count(*), sum(id) from inserted group by 2
            on conflict (table_name, hour) do update
            set row_count = kept.row_count + excluded.row_count, id_sum = kept.id_sum + excluded.id_sum
        )
        select count(*) from inserted
        """,
        (load_id, table),
    )
    return copied, wh_cur.fetchone()[0]


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
                src_cur.copy_expert(copy_out, sink, size=1 << 18)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    producer = threading.Thread(target=produce, name="copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            dst_cur.copy_expert(copy_in, pipe, size=1 << 18)
    finally:
        producer.join()
    if errors:
        raise errors[0]
    return dst_cur.rowcount
