"""Load the optional network tables (`transformers`, `meter_connections`) into raw, as-is (docs/data-contract.md §2).

They are small (one row per transformer or meter version) and append-only, so a load compares the whole table:
the source's (row count, sum of ids) against raw's. When they differ, the rows above raw's highest id are copied;
when raw still differs after that (a row committed after one with a higher id), every source row is copied and
`on conflict (id) do nothing` keeps the ones raw already has. Both tables load in one warehouse transaction under
one advisory lock, from one source snapshot, so a transformer and the connections created with it arrive together.
A source without these tables loads nothing and fails nothing: the readings load as before.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from orchestration.db.connection import connected
from orchestration.results.model import TableLoad
from orchestration.settings import DbTarget
from orchestration.sources import NETWORK_COLUMNS
from orchestration.steps.copy_rows import begin_source_snapshot, stage_rows

log = logging.getLogger(__name__)

NETWORK_LOCK_KEY = 5_317_005  # pg_advisory_xact_lock of the network tables' load
LOCK_TIMEOUT = "15min"


def load_network(warehouse: DbTarget, source: DbTarget, load_id: str, window_end: datetime) -> dict[str, TableLoad]:
    """Make raw hold every row of the source's network tables; {table: its load} for the tables the source has.
    Each table's load is in raw.load_log, as the reading tables' are; rows travel as theirs do (copy_rows.py)."""
    started_at = datetime.now(UTC)
    loads: dict[str, TableLoad] = {}
    with connected(source, application="smartgrid-loader") as src:
        begin_source_snapshot(src)  # one snapshot for both tables
        with src.cursor() as src_cur:
            present = _present(src_cur)
            if not present:
                return loads  # no network in this source: nothing to compare, nothing to lock
            with connected(warehouse, application="smartgrid-loader") as wh, wh.cursor() as wh_cur:
                wh_cur.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
                wh_cur.execute("select pg_advisory_xact_lock(%s)", (NETWORK_LOCK_KEY,))
                for table in present:
                    loads[table] = load = _load_table(src_cur, wh_cur, table, load_id)
                    wh_cur.execute(
                        "insert into raw.load_log (load_id, started_at, finished_at, window_end, table_name, "
                        "hours_copied, rows_copied, rows_loaded, source_max_id) "
                        "values (%s, %s, clock_timestamp(), %s, %s, 0, %s, %s, %s)",
                        (load_id, started_at, window_end, table, load.rows_copied, load.rows_loaded,
                         load.source_max_id),
                    )  # fmt: skip
    for table, load in loads.items():
        log.info("%s: copied %d row(s), %d new to raw", table, load.rows_copied, load.rows_loaded)
    return loads


def _present(src_cur) -> list[str]:
    """The network tables the source has (in the connection's search path) and the load may read, in declaration
    order. One it may not read is logged and left out: the readings still load."""
    present = []
    for table in NETWORK_COLUMNS:
        src_cur.execute("select to_regclass(%s) is not null, has_table_privilege(to_regclass(%s), 'select')",
                        (table, table))  # fmt: skip
        exists, readable = src_cur.fetchone()
        if exists and not readable:
            log.warning(
                "the source has a %s table the load may not read: grant select (smartgrid db init-roles)", table
            )
        if exists and readable:
            present.append(table)
    return present


def _fingerprint(cur, table: str) -> tuple[int, int, int]:
    cur.execute(f"select count(*), coalesce(sum(id), 0), coalesce(max(id), 0) from {table}")
    count, id_sum, max_id = cur.fetchone()
    return count, int(id_sum), max_id


def _load_table(src_cur, wh_cur, table: str, load_id: str) -> TableLoad:
    result = TableLoad(table=table)
    source_count, source_sum, result.source_max_id = _fingerprint(src_cur, table)
    raw_count, raw_sum, raw_max_id = _fingerprint(wh_cur, f"raw.{table}")
    for predicate in (f"id > {int(raw_max_id)}", "true"):
        if (raw_count, raw_sum) == (source_count, source_sum):
            break
        copied, loaded, loaded_sum = _copy(src_cur, wh_cur, table, predicate, load_id)
        result.rows_copied += copied
        result.rows_loaded += loaded
        raw_count, raw_sum = raw_count + loaded, raw_sum + loaded_sum
    return result


def _copy(src_cur, wh_cur, table: str, predicate: str, load_id: str) -> tuple[int, int, int]:
    """Stream the matching source rows into raw; (rows copied, rows new to raw, sum of the new rows' ids)."""
    copied = stage_rows(src_cur, wh_cur, table, NETWORK_COLUMNS[table], predicate)
    columns = ", ".join(f'"{c}"' for c in NETWORK_COLUMNS[table])
    wh_cur.execute(
        f"""
        with inserted as (
            insert into raw.{table} ({columns}, _load_id, _loaded_at)
            select {columns}, %s, now() from incoming_{table}
            on conflict (id) do nothing
            returning id
        )
        select count(*), coalesce(sum(id), 0) from inserted
        """,
        (load_id,),
    )
    loaded, loaded_sum = wh_cur.fetchone()
    return copied, loaded, int(loaded_sum)
