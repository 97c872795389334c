"""The `utility-s` part of `make bench`: the hourly run at a utility's size, and the load against binary COPY.

utility-S: 100,000 meters (a register every 15 min) and 2,000 sensors reporting voltage, current, power and
frequency every minute: 880,000 source rows an hour. The history (2 hours, and a day and 2 hours: DAY_HOURS)
is loaded and built first; then the next hour arrives, with 0.5 % of the previous hour's rows arriving late, and
one hourly flow run (`smartgrid run --json`, a fresh process, as a worker starts it) is timed end to end and step
by step, with each heavy dbt model; behind a day, each model over 2 s is then profiled (benchmarks/profile.py).
An hour with no new rows gives the fixed overhead. The loader's rows/s for that hour is compared with a binary
COPY of the same rows in one stream and in N (copy_baseline): into raw itself, rolled back (the target's baseline:
the same indexes at the same size), and into empty tables with raw's columns and indexes (reported).

Both hours compared for growth are 02:00 UTC, so they differ in history only. The first hour of a UTC day costs
more at any age (its run rebuilds the day's last hour, so the UTC customer-day mart re-sums the whole finished day:
1.9 s -> 4.1 s, the VEE mart 3.3 -> 6.5 s in the line of 2026-12-05T04:26:56): timing 00:00 behind a day against
02:00 behind 2 hours measured the time of day as much as the history. The day's costliest hour is timed too, behind
the same day: 22:00 UTC (LATE_HOUR), midnight in the project's zone (Europe/Berlin in summer), whose run re-sums
the whole finished local day in the local customer-day mart and 23 hours in the UTC one, where 02:00 re-sums 3.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from benchmarks.fleet import UTILITY_S, Fleet, generate_history, generate_next_hour
from benchmarks.harness import build_history, fresh_databases, hourly_run, say
from benchmarks.profile import heavy_models, profile_models
from orchestration.db.connection import connected
from orchestration.sources import SOURCE_COLUMNS
from orchestration.steps.copy_rows import stream_copy

T0 = datetime(2026, 6, 1)
STREAMS = os.cpu_count() or 2  # the N-stream COPY baseline: a stream per core of the machine (the bench's server)
REPEATS = 3
DAY_HOURS = 26  # a full day of history before the timed hour, which is at the same time of day as behind 2 hours
LATE_HOUR = 46  # 22:00 UTC of the second day: the local day's first hour, its customer-day marts' costliest run


def copy_baseline(warehouse, source, hour: datetime) -> dict:
    """rows/s of a binary COPY of the hour's source rows into tables with raw's columns and indexes, with one stream
    and with STREAMS streams per table split by id range, each stream its own transaction; the tables one after the
    other. Into two kinds of table:

    - "raw": raw.<table> itself, each COPY rolled back and the table vacuumed after it: the same indexes at the same
      size and state as the loader's COPY met. The rows' event_id gets a suffix (raw holds the hour's rows by now),
      which sorts it next to the row's own key: the same leaf pages of raw's unique event_id index. Vacuuming frees
      the space the rolled-back keys took, so a repeat splits fewer pages than the loader did, and a rollback does not
      wait for the WAL flush a commit waits for: if anything, this baseline is faster than the loader's work.
    - "empty": created `like raw.<table> including all` and emptied before each COPY (the earlier lines' only
      baseline, measure "load / N-stream COPY"): small indexes, so it leaves out what raw's history costs an insert.

    The two stream counts alternate in order, REPEATS times each; the medians are kept."""
    out: dict = {"streams": STREAMS}
    for kind in ("raw", "empty"):
        targets = {table: f"raw.{table}" if kind == "raw" else f"raw.bench_copy_{table}" for table in SOURCE_COLUMNS}
        if kind == "empty":
            with connected(warehouse, autocommit=True) as wh, wh.cursor() as cur:
                for table, target in targets.items():
                    cur.execute(f"drop table if exists {target}")
                    cur.execute(f"create table {target} (like raw.{table} including all)")
        timings: dict[int, list[float]] = {1: [], STREAMS: []}
        for repeat in range(REPEATS):
            for streams in (1, STREAMS) if repeat % 2 == 0 else (STREAMS, 1):
                seconds, rows = 0.0, 0
                for table, target in targets.items():
                    started = time.monotonic()
                    rows += _copy_in_streams(warehouse, source, table, target, hour, streams, rolled_back=kind == "raw")
                    seconds += time.monotonic() - started
                    with connected(warehouse, autocommit=True) as wh, wh.cursor() as cur:
                        cur.execute(f"vacuum {target}" if kind == "raw" else f"truncate {target}")
                timings[streams].append(rows / seconds)
        out[kind] = {
            "rows": rows,
            "COPY rows/s, 1 stream": statistics.median(timings[1]),
            "COPY rows/s, N streams": statistics.median(timings[STREAMS]),
            "all COPY rows/s": timings,
        }
        if kind == "empty":
            with connected(warehouse, autocommit=True) as wh, wh.cursor() as cur:
                for target in targets.values():
                    cur.execute(f"drop table {target}")
    return out


def _copy_in_streams(
    warehouse, source, table: str, target: str, hour: datetime, streams: int, *, rolled_back: bool
) -> int:
    """Binary COPY of `table`'s rows of `hour` into `target` in `streams` parallel streams (id ranges), each its own
    transaction; rolled back (event_id suffixed: raw holds the rows) or committed."""
    cols = ", ".join(
        "\"event_id\" || '~baseline'" if rolled_back and c == "event_id" else f'"{c}"' for c in SOURCE_COLUMNS[table]
    )
    window = ('"timestamp" >= %s and "timestamp" < %s', (hour, hour + timedelta(hours=1)))
    with connected(source) as src, src.cursor() as cur:
        cur.execute(f"select min(id), max(id) + 1 from {table} where {window[0]}", window[1])
        low, high = cur.fetchone()
    bounds = [low + (high - low) * k // streams for k in range(streams + 1)]

    def stream(k: int) -> int:
        with connected(warehouse) as wh, wh.cursor() as wh_cur, connected(source) as src, src.cursor() as src_cur:
            where = src_cur.mogrify(f"{window[0]} and id >= %s and id < %s", (*window[1], bounds[k], bounds[k + 1]))
            copied = stream_copy(
                src_cur,
                f"copy (select {cols}, gen_random_uuid(), now() from {table} where {where.decode()}) "
                "to stdout (format binary)",
                wh_cur,
                f"copy {target} from stdin (format binary)",
            )
            if rolled_back:
                wh.rollback()
            return copied

    with ThreadPoolExecutor(max_workers=streams) as pool:
        return sum(pool.map(stream, range(streams)))


def utility_s(fleet: Fleet, history_hours: int, *, limits: bool = True) -> dict:
    warehouse, source = fresh_databases()
    say(
        f"utility-S: {fleet.meters:,} meters, {fleet.sensors:,} sensors x 4 quantities = "
        f"{fleet.rows_per_hour:,} rows/h; {history_hours} h of history"
    )
    start, hour = T0, T0 + timedelta(hours=history_hours)
    t = time.monotonic()
    generate_history(source, fleet, start, hour)
    say(f"  generated the history in {time.monotonic() - t:.0f} s")
    say(f"  history loaded and built (one run) in {build_history(start, hour):.0f} s")
    late = generate_next_hour(source, fleet, hour)
    run = hourly_run(hour)
    say(f"  the next hour ({late:,} late rows for the hour before): {run}")
    out = {"history hours": history_hours, "run": run}
    if limits:
        name = "utility-s" if fleet == UTILITY_S else "utility-s-quick"
        title = f"utility-S hour behind {history_hours} h: {fleet.meters:,} meters, {fleet.sensors:,} sensors; {run}"
        out["profile"] = profile_models(warehouse, heavy_models(run), name, title)
        say(f"  profiled {', '.join(out['profile'].get('models', {}))} -> {out['profile'].get('file')}")
        out["copy baseline"] = copy_baseline(warehouse, source, hour)
        out["idle"] = hourly_run(hour + timedelta(hours=1))
        say(f"  an hour without new rows: {out['idle']}")
        out["late hour"] = _late_hour(fleet, source, hour + timedelta(hours=1), T0 + timedelta(hours=LATE_HOUR))
        say(f"  the hour at {out['late hour']['hour']}: {out['late hour']['run']}")
    return out


def _late_hour(fleet: Fleet, source, start: datetime, hour: datetime) -> dict:
    """Build [start, hour) as the history was built, then time the run of `hour` (with late rows for the hour
    before) as the hour behind a day is timed."""
    t = time.monotonic()
    generate_history(source, fleet, start, hour)
    say(f"  generated {start:%H:%M}-{hour:%H:%M} in {time.monotonic() - t:.0f} s; built in "
        f"{build_history(start, hour):.0f} s")  # fmt: skip
    generate_next_hour(source, fleet, hour)
    return {"hour": hour.isoformat(), "run": hourly_run(hour)}


def measures(fleet: Fleet) -> tuple[dict, dict]:
    """The part's (measures, details): the hour behind 2 hours and behind a day and 2 hours of history."""
    short = utility_s(fleet, history_hours=2, limits=False)
    day = utility_s(fleet, history_hours=DAY_HOURS)
    run = day["run"]
    loader = run["rows loaded"] / run["load"]
    into_raw, empty = day["copy baseline"]["raw"], day["copy baseline"]["empty"]
    return {
        "utility-S hourly run behind 1 day, wall s": run["wall"],
        "utility-S hour: behind 1 day / behind 2 hours": run["wall"] / short["run"]["wall"],
        "utility-S hourly run at local midnight, 46 h of history, wall s": day["late hour"]["run"]["wall"],
        "load / N-stream COPY into raw": loader / into_raw["COPY rows/s, N streams"],
        "load / N-stream COPY into empty tables": loader / empty["COPY rows/s, N streams"],
        "fixed overhead (hour without new rows): dbt + checkpoint s": day["idle"]["dbt build"]
        + day["idle"]["checkpoint"],
        "peak RSS of a flow process, MB": max(run["peak RSS MB"], short["run"]["peak RSS MB"]),
        "loader rows/s": loader,
        "COPY rows/s into raw (rolled back), 1 stream": into_raw["COPY rows/s, 1 stream"],
        f"COPY rows/s into raw (rolled back), {STREAMS} streams": into_raw["COPY rows/s, N streams"],
        "COPY rows/s into empty tables, 1 stream": empty["COPY rows/s, 1 stream"],
        f"COPY rows/s into empty tables, {STREAMS} streams": empty["COPY rows/s, N streams"],
    }, {"behind 2 hours": short, "behind 1 day": day}
