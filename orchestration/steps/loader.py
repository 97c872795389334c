"""Load the source tables into the warehouse's raw schema, as-is (docs/data-contract.md §2).

Which rows to copy is steps/reconcile.py's decision: the rows above the previous load's highest id first, then
the last hours compared hour by hour with raw's fingerprints. Rows travel as binary COPY through an OS pipe
(copy_rows.py), read from the source by a process of its own on this load's source snapshot (copy_reader.py).
The rows above the previous load's highest id cannot be in raw yet, so they are copied straight
into raw, each written once; their hours are then added to raw.hour_fingerprints. Should raw hold one after all
(the source deleted a row and inserted it again under a new id), that COPY fails at a savepoint and they take the
way of the changed hours' rows: into a temporary table, then inserted with `on conflict (event_id) do nothing`,
which adds them to raw.hour_fingerprints in the same statement. The two tables load in parallel, each in one
warehouse transaction under its own advisory lock: a load killed half-way leaves that table as it was, and
overlapping loads queue instead of interleaving.
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.resources import files

from psycopg2.errors import UndefinedTable, UniqueViolation

from orchestration.db.connection import connected
from orchestration.results.model import LoadResult, TableLoad
from orchestration.settings import DbTarget
from orchestration.sources import SOURCE_COLUMNS, raw_tables_ddl
from orchestration.steps import reconcile
from orchestration.steps.copy_rows import begin_source_snapshot, copy_into_raw, stage_rows
from orchestration.steps.network_loader import load_network

log = logging.getLogger(__name__)

LOAD_LOCK_KEYS = {"sensor_data": 5_317_001, "meter_readings": 5_317_003}  # pg_advisory_xact_lock per raw table
SCHEMA_LOCK_KEY = 5_317_004  # serialises raw's DDL (concurrent `create ... if not exists` collide in pg_type)
LOCK_TIMEOUT = "15min"
# adds the per-hour (rows, sum of ids) of `rows` (a relation with "timestamp" and id) to raw.hour_fingerprints
ADD_TO_FINGERPRINTS = """
    insert into raw.hour_fingerprints as kept (table_name, hour, row_count, id_sum)
    select %s, date_trunc('hour', "timestamp"), count(*), sum(id) from {rows} group by 2
    on conflict (table_name, hour) do update
    set row_count = kept.row_count + excluded.row_count, id_sum = kept.id_sum + excluded.id_sum
"""
DEFAULT_RECONCILE_HOURS = 3


class SourceSchemaError(RuntimeError):
    """The source database lacks a table the contract names."""


def raw_ddl() -> str:
    """raw's tables (sources.py declares the copies of the source tables), load log, retention and fingerprints."""
    rest = files("orchestration").joinpath("sql/raw_tables.sql").read_text()
    return "create schema if not exists raw;\n" + raw_tables_ddl() + rest


def load_raw(
    warehouse: DbTarget,
    source: DbTarget,
    window_start: datetime,
    window_end: datetime,
    *,
    reconcile_hours: int = DEFAULT_RECONCILE_HOURS,
    daily: reconcile.DailySweep | None = None,
    full_reconcile: bool = False,
) -> LoadResult:
    """Make raw hold every source row with "timestamp" < window_end (naive UTC datetimes).

    Both tables load in parallel, each in one transaction (the optional network tables beside them,
    steps/network_loader.py), so after a connection error a load can simply run
    again: the flow's load task does that with Prefect's retries. `daily` (the daily run) adds its recent span and
    sweep of older days (steps/reconcile.py); `full_reconcile` compares every hour of history.
    """
    started = time.monotonic()
    load_id = str(uuid.uuid4())
    with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        cur.execute(raw_ddl())  # once, before the two tables' transactions start

    def load(table: str) -> tuple[TableLoad, datetime]:
        return _load_table(
            warehouse, source, table, window_start, window_end, load_id, reconcile_hours, daily, full_reconcile
        )

    with ThreadPoolExecutor(max_workers=len(SOURCE_COLUMNS) + 1, thread_name_prefix="load") as pool:
        network = pool.submit(load_network, warehouse, source, load_id, window_end)  # optional, small
        loads = dict(zip(SOURCE_COLUMNS, pool.map(load, SOURCE_COLUMNS), strict=True))
        network_loads = network.result()
    return LoadResult(
        load_id=load_id,
        loaded_at=min(at for _, at in loads.values()),
        window_start=window_start,
        window_end=window_end,
        seconds=time.monotonic() - started,
        tables={table: table_load for table, (table_load, _) in loads.items()} | network_loads,
    )


def _load_table(
    warehouse: DbTarget,
    source: DbTarget,
    table: str,
    window_start: datetime,
    window_end: datetime,
    load_id: str,
    reconcile_hours: int,
    daily: reconcile.DailySweep | None,
    full_reconcile: bool,
) -> tuple[TableLoad, datetime]:
    started_at = datetime.now(UTC)
    result = TableLoad(table=table)
    with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as wh_cur:
        wh_cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
        wh_cur.execute("select pg_advisory_xact_lock(%s)", (LOAD_LOCK_KEYS[table],))
        wh_cur.execute("select now()")
        loaded_at = wh_cur.fetchone()[0]
        since, above_id = reconcile.reconciliation_start(wh_cur, table, window_start, window_end, reconcile_hours)
        swept: reconcile.Ranges = []
        if full_reconcile:
            since, above_id = reconcile.cleaned_before(wh_cur, table), None
        elif daily:
            since, swept = reconcile.daily_reconciliation(wh_cur, table, since, window_end, daily)
        ranges = [(since, window_end), *swept]
        with connected(source, application="smartgrid-loader") as src:
            begin_source_snapshot(src)  # one snapshot for the table
            with src.cursor() as src_cur:
                try:
                    src_cur.execute(f"select coalesce(max(id), 0) from {table}")
                except UndefinedTable:
                    raise SourceSchemaError(
                        f"the source database has no table {table!r}: is SOURCE_POSTGRES_DB the operational database?"
                    ) from None
                result.source_max_id = src_cur.fetchone()[0]
                if above_id is not None:  # the rows new by id first: the hours they complete are not copied again
                    new = reconcile.new_rows(src_cur, above_id, window_end)
                    result.rows_copied, result.rows_loaded = _copy_new_rows(
                        src_cur, wh_cur, table, new, load_id, loaded_at
                    )
                source_hours = reconcile.source_fingerprints(src_cur, table, ranges)
                raw_hours = reconcile.raw_fingerprints(wh_cur, table, ranges)
                start_epoch, end_epoch = reconcile.epoch(window_start), reconcile.epoch(window_end)
                result.window_rows = sum(n for h, (n, _) in source_hours.items() if start_epoch <= h < end_epoch)
                changed = sorted(h for h, fingerprint in source_hours.items() if raw_hours.get(h) != fingerprint)
                result.hours_copied = len(changed)
                result.changed_hours = [reconcile.iso(h) for h in changed]
                result.reconciled_from = "-infinity" if since is None else since.isoformat()
                result.swept_days = [low.date().isoformat() for low, _ in swept]
                predicate = reconcile.rows_to_copy(src_cur, changed, since, above_id)
                if predicate:
                    copied, loaded = _copy_checked(src_cur, wh_cur, table, predicate, load_id)
                    result.rows_copied += copied
                    result.rows_loaded += loaded
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


def _copy_new_rows(src_cur, wh_cur, table: str, predicate: str, load_id: str, loaded_at: datetime) -> tuple[int, int]:
    """Copy the rows above the previous load's highest id straight into raw, then add their hours to the
    fingerprints; if raw holds one of them already, copy them the checked way instead. (rows copied, rows new)"""
    wh_cur.execute("savepoint straight_copy")
    try:
        copied = copy_into_raw(src_cur, wh_cur, table, SOURCE_COLUMNS[table], predicate, load_id, loaded_at)
    except UniqueViolation as exc:
        wh_cur.execute("rollback to savepoint straight_copy")
        log.warning("%s: raw holds a row the source has under a new id (%s); copying the new rows checked",
                    table, str(exc).splitlines()[0])  # fmt: skip
        return _copy_checked(src_cur, wh_cur, table, predicate, load_id)
    wh_cur.execute("release savepoint straight_copy")
    this_load = f"(select * from raw.{table} where _loaded_at = %s and _load_id = %s) as copied"  # its index
    wh_cur.execute(ADD_TO_FINGERPRINTS.format(rows=this_load), (table, loaded_at, load_id))
    return copied, copied


def _copy_checked(src_cur, wh_cur, table: str, predicate: str, load_id: str) -> tuple[int, int]:
    """The checked way: stream the matching source rows into a temporary table and insert those raw does not hold
    (by event_id); return (rows copied, rows new to raw)."""
    copied = stage_rows(src_cur, wh_cur, table, SOURCE_COLUMNS[table], predicate)
    columns = ", ".join(f'"{c}"' for c in SOURCE_COLUMNS[table])
    wh_cur.execute(
        f"""
        with inserted as (
            insert into raw.{table} ({columns}, _load_id, _loaded_at)
            select {columns}, %s, now() from incoming_{table}
            on conflict (event_id) do nothing
            returning "timestamp", id
        ),
        fingerprints as ({ADD_TO_FINGERPRINTS.format(rows="inserted")})
        select count(*) from inserted
        """,
        (load_id, table),
    )
    return copied, wh_cur.fetchone()[0]
