"""Opt-in retention: delete raw rows older than the retention period, in small batches.

Only raw is touched: the source belongs to the ingestion services, so no source row is ever deleted (and
so none can be lost before it reaches raw). The horizon is recorded in raw.retention; the loader reconciles
only hours at or after it, so deleted raw rows are not copied back from the source. Marts are kept.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from orchestration.database import connected
from orchestration.loader import SOURCE_COLUMNS, raw_ddl
from orchestration.settings import DbTarget

log = logging.getLogger(__name__)
BATCH_ROWS = 10_000  # rows per delete statement: short transactions, short locks


def cleanup_raw(warehouse: DbTarget, now: datetime, retention_days: int) -> dict:
    """Delete raw rows with "timestamp" before floor_day(now) - retention_days; return rows deleted."""
    horizon = (now - timedelta(days=retention_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    deleted = {}
    with connected(warehouse, application="smartgrid-retention", autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(raw_ddl())
        for table in SOURCE_COLUMNS:
            # record the horizon first: from now on the loader ignores older source hours
            cur.execute(
                "insert into raw.retention (table_name, cleaned_before) values (%s, %s) "
                "on conflict (table_name) do update "
                "set cleaned_before = greatest(raw.retention.cleaned_before, excluded.cleaned_before)",
                (table, horizon),
            )
            total = 0
            while True:
                cur.execute(
                    f"delete from raw.{table} where ctid = any(array(select ctid from raw.{table} "
                    f'where "timestamp" < %s limit {BATCH_ROWS}))',
                    (horizon,),
                )
                total += cur.rowcount
                if cur.rowcount < BATCH_ROWS:
                    break
            cur.execute("delete from raw.hour_fingerprints where table_name = %s and hour < %s", (table, horizon))
            deleted[table] = total
            log.info("retention: deleted %d raw.%s row(s) before %s", total, table, horizon.isoformat())
    return {"horizon": horizon.isoformat(), "rows_deleted": deleted}
