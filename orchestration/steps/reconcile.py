"""Which source rows a load copies (docs/data-contract.md §2), at a cost that follows the new rows.

- Hours from `reconcile_hours` before the window's end (never later than its start or the previous load's
  end) are compared hour by hour: the source's (row count, sum of ids) against raw's, which the loader keeps
  in raw.hour_fingerprints as it inserts (no scan of raw). Every hour that differs is copied: rows commit out
  of order in the source, so ids alone are not a safe watermark there.
- Older rows are found by id: every source row above the highest id the previous load saw, whatever its
  "timestamp" (a backlog days old, -infinity, infinity, BC dates).
- `full_reconcile` compares every hour of history (the daily run).

Hours travel as epoch seconds (float, +-infinity included), never as Python datetimes: the driver cannot
represent -infinity or BC timestamps, and a load must not depend on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

HOUR_SECONDS = 3600.0


def cleaned_before(wh_cur, table: str) -> datetime | None:
    wh_cur.execute("select cleaned_before from raw.retention where table_name = %s", (table,))
    row = wh_cur.fetchone()
    return row[0] if row else None


def reconciliation_start(
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
    retention_horizon = cleaned_before(wh_cur, table)
    if previous is None:
        return retention_horizon, None  # the first load: every hour
    previous_end, previous_max_id = previous
    since = min(window_start, window_end - timedelta(hours=reconcile_hours), previous_end)
    if retention_horizon is not None:
        since = max(since, retention_horizon)  # hours before a retention cleanup stay out of raw
    return since, previous_max_id


def epoch(value: datetime) -> float:
    return (value - datetime(1970, 1, 1)).total_seconds()


def iso(epoch: float) -> str:
    if epoch in (float("inf"), float("-inf")):
        return "infinity" if epoch > 0 else "-infinity"
    try:
        return (datetime(1970, 1, 1) + timedelta(seconds=epoch)).isoformat()
    except OverflowError:  # before year 1: Python has no such datetime, PostgreSQL does
        return f"{epoch:.0f} seconds from 1970"


def source_fingerprints(cur, table: str, since: datetime | None, window_end: datetime) -> dict:
    """{hour as epoch seconds: (rows, sum of ids)} for source hours in [since, window_end)."""
    cur.execute(
        f"select extract(epoch from date_trunc('hour', \"timestamp\"))::float8, count(*), sum(id) from {table} "
        f'where "timestamp" >= coalesce(%s, \'-infinity\'::timestamp) and "timestamp" < %s group by 1',
        (since, window_end),
    )
    return {hour: (count, int(id_sum)) for hour, count, id_sum in cur.fetchall()}


def raw_fingerprints(cur, table: str, since: datetime | None, window_end: datetime) -> dict:
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


def rows_to_copy(cur, changed: list[float], since: datetime | None, above_id: int | None) -> str:
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
