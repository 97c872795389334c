"""The `utility-s` part of `make bench`: the hourly run at a utility's size, and the load against plain COPY.

utility-S: 100,000 meters (a register every 15 min) and 2,000 sensors reporting voltage, current, power and
frequency every minute: 880,000 source rows an hour. The history (2 hours, and a day and 2 hours: DAY_HOURS)
is loaded and built first; then the next hour arrives, with 0.5 % of the previous hour's rows arriving late, and
one hourly flow run (`smartgrid run --json`, a fresh process, as a worker starts it) is timed end to end and step
by step, with each heavy dbt model. An hour with no new rows gives the fixed overhead. The loader's rows/s for
that hour is compared with a plain COPY and an INSERT ... SELECT of the same rows into a table shaped like raw.

Both timed hours are 02:00 UTC, so they differ in history only. The first hour of a UTC day costs more at any
age (its run rebuilds the day's last hour, so the UTC customer-day mart re-sums the whole finished day: 1.9 s ->
4.1 s, the VEE mart 3.3 -> 6.5 s in the line of 2026-12-05T04:26:56): timing 00:00 behind a day against 02:00 behind
2 hours measured the time of day as much as the history.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from benchmarks.fleet import Fleet, generate_hours
from benchmarks.harness import build_history, fresh_databases, hourly_run, say
from orchestration.db.connection import connected
from orchestration.sources import SOURCE_COLUMNS
from orchestration.steps.copy_rows import stream_copy

T0 = datetime(2026, 6, 1)
DAY_HOURS = 26  # a full day of history before the timed hour, which is at the same time of day as behind 2 hours


def copy_limits(warehouse, source, hour: datetime) -> dict[str, float]:
    """rows/s of a plain COPY, and of an INSERT ... SELECT, of the hour's rows into tables shaped like raw."""
    rows, copy_s, insert_s = 0, 0.0, 0.0
    with connected(warehouse) as wh, wh.cursor() as wh_cur, connected(source) as src, src.cursor() as src_cur:
        for table, columns in SOURCE_COLUMNS.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            for copy in ("bench_copy", "bench_insert"):
                wh_cur.execute(f"drop table if exists raw.{copy}_{table}")
                wh_cur.execute(f"create table raw.{copy}_{table} (like raw.{table} including all)")
            wh.commit()
            started = time.monotonic()
            where = src_cur.mogrify('"timestamp" >= %s and "timestamp" < %s', (hour, hour + timedelta(hours=1)))
            n = stream_copy(
                src_cur,
                f"copy (select {cols}, gen_random_uuid(), now() from {table} where {where.decode()}) to stdout",
                wh_cur,
                f"copy raw.bench_copy_{table} from stdin",
            )
            wh.commit()
            copy_s += time.monotonic() - started
            rows += n
            started = time.monotonic()
            wh_cur.execute(f"insert into raw.bench_insert_{table} select * from raw.bench_copy_{table}")
            wh.commit()
            insert_s += time.monotonic() - started
            for copy in ("bench_copy", "bench_insert"):
                wh_cur.execute(f"drop table raw.{copy}_{table}")
            wh.commit()
    return {"rows": rows, "plain COPY rows/s": rows / copy_s, "INSERT ... SELECT rows/s": rows / insert_s}


def utility_s(fleet: Fleet, history_hours: int, *, limits: bool = True) -> dict:
    warehouse, source = fresh_databases()
    say(
        f"utility-S: {fleet.meters:,} meters, {fleet.sensors:,} sensors x 4 quantities = "
        f"{fleet.rows_per_hour:,} rows/h; {history_hours} h of history"
    )
    start, hour = T0, T0 + timedelta(hours=history_hours)
    t = time.monotonic()
    generate_hours(source, fleet, start, hour - timedelta(hours=1))
    generate_hours(source, fleet, hour - timedelta(hours=1), hour, late_share=0.005)
    say(f"  generated the history in {time.monotonic() - t:.0f} s")
    say(f"  history loaded and built (one run) in {build_history(start, hour):.0f} s")
    generate_hours(source, fleet, hour, hour + timedelta(hours=1))
    late = generate_hours(source, fleet, hour - timedelta(hours=1), hour, late_share=0.005, late=True)
    run = hourly_run(hour)
    say(f"  the next hour ({late:,} late rows for the hour before): {run}")
    out = {"history hours": history_hours, "run": run}
    if limits:
        out["limits"] = copy_limits(warehouse, source, hour)
        out["idle"] = hourly_run(hour + timedelta(hours=1))
        say(f"  an hour without new rows: {out['idle']}")
    return out


def measures(fleet: Fleet) -> tuple[dict, dict]:
    """The part's (measures, details): the hour behind 2 hours and behind a day and 2 hours of history."""
    short = utility_s(fleet, history_hours=2, limits=False)
    day = utility_s(fleet, history_hours=DAY_HOURS)
    run = day["run"]
    return {
        "utility-S hourly run behind 1 day, wall s": run["wall"],
        "utility-S hour: behind 1 day / behind 2 hours": run["wall"] / short["run"]["wall"],
        "load / plain COPY": (run["rows loaded"] / run["load"]) / day["limits"]["plain COPY rows/s"],
        "fixed overhead (hour without new rows): dbt + checkpoint s": day["idle"]["dbt build"]
        + day["idle"]["checkpoint"],
        "peak RSS of a flow process, MB": max(run["peak RSS MB"], short["run"]["peak RSS MB"]),
        "loader rows/s": run["rows loaded"] / run["load"],
        "plain COPY rows/s": day["limits"]["plain COPY rows/s"],
        "INSERT ... SELECT rows/s": day["limits"]["INSERT ... SELECT rows/s"],
    }, {"behind 2 hours": short, "behind 1 day": day}
