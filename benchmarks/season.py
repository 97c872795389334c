"""The `season` part of `make bench` (issue 15): does what runs daily, or what an analyst queries, grow with history?

A fleet (SEASON_FLEET: 1,000 meters, 20 sensors) is generated in the source and built through the pipeline, once
with 1 day of history and once with 60 days (`long_days`); each history is loaded and built by two flow runs
(all but the last day, then the last day), and the warehouse vacuumed and analyzed. Then, on rows new to the
warehouse:

- the hourly run: the next hour arrives and `smartgrid run` processes it (a fresh process, as a worker starts it);
- the daily run: the hour after arrives and `smartgrid run --cleanup` processes it, as the daily deployment does
  (bounded reconciliation, retention cleanup, the grid report rewritten);
- the grid report of the last complete day (`smartgrid report --start --end`, median of 3: most of its seconds
  are Python drawing the charts of the window's rows, which vary by a fifth from one run to the next);
- an analyst's query of that day's VEE exceptions (`audit.meter_vee_exceptions`): the pages it reads (shared
  buffers hit and read, from EXPLAIN (ANALYZE, BUFFERS)), the work that would grow with history; its seconds
  (median of 3) are kept beside them, but at 5-11 ms they are mostly planning and noise;
- the grid report of 7 days: the last 7 complete days, behind 1 day (a third build, of 8 days, timed the same
  way after the same runs) and behind `long_days - 7` days.

The history ends the day before yesterday (UTC), so every row is inside the retention period and the daily
run's cleanup deletes nothing. Each figure behind `long_days` is divided by the same behind 1 day; a ratio over
its target prints the EXPLAIN (ANALYZE, BUFFERS) of the query in its way, or the steps of the run.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from benchmarks.fleet import Fleet, generate_hours
from benchmarks.harness import SETTINGS, build_history, flow_run, fresh_databases, grid_report, ratio, say
from orchestration.db.connection import connected
from orchestration.local.postgres import resolve_targets

SEASON_FLEET = Fleet(meters=1_000, sensors=20)
QUICK_FLEET = Fleet(meters=50, sensors=2)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
FLAT = 1.2  # every season ratio's target: behind `long_days` <= 1.2 x behind 1 day
FIGURES = ("hourly run", "daily run", "grid report of a day", "grid report of 7 days", "VEE exceptions of a day")
UNITS = {"VEE exceptions of a day": "pages read"}  # the others: seconds


def vee_day_column(cur) -> str:
    """The VEE exceptions' day column: `day` today; a local day (the lead's change) if that is what it has."""
    cur.execute(
        "select column_name from information_schema.columns where table_schema = 'audit' "
        "and table_name = 'meter_vee_exceptions' and data_type = 'date' order by ordinal_position"
    )
    columns = [name for (name,) in cur.fetchall()]
    return "day" if "day" in columns else columns[0]


def vee_query(day: datetime, explain: bool = False) -> tuple[float, int, int, str]:
    """(median seconds of 3, rows, pages read, the EXPLAIN if asked) of an analyst's query of one day's VEE
    exceptions. Pages: shared buffers hit and read by the query's plan (not its planning)."""
    warehouse, _ = resolve_targets(SETTINGS)
    with connected(warehouse, application="smartgrid-bench-analyst") as conn, conn.cursor() as cur:
        sql = f"select * from audit.meter_vee_exceptions where {vee_day_column(cur)} = %s"
        seconds, rows = [], 0
        for _ in range(3):
            started = time.monotonic()
            cur.execute(sql, (day.date(),))
            rows = len(cur.fetchall())
            seconds.append(time.monotonic() - started)
        cur.execute(f"explain (analyze, buffers, format json) {sql}", (day.date(),))
        top = cur.fetchone()[0][0]["Plan"]
        pages = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
        plan = ""
        if explain:
            cur.execute(f"explain (analyze, buffers) {sql}", (day.date(),))
            plan = "\n".join(line for (line,) in cur.fetchall())
    return statistics.median(seconds), rows, pages, plan


def median_report(start: datetime, end: datetime) -> dict:
    """The grid report of [start, end) three times: the run of median seconds, with all three."""
    runs = sorted((grid_report(start, end) for _ in range(3)), key=lambda run: run["s"])
    return {**runs[1], "all s": [run["s"] for run in runs]}


def behind(fleet: Fleet, end: datetime, days: int) -> dict:
    """`days` of history before `end`, then the timed runs, report and query."""
    _, source = fresh_databases()
    t = time.monotonic()
    rows = generate_hours(source, fleet, end - days * DAY, end, step=DAY)
    say(f"season, behind {days} day(s): {rows:,} rows generated in {time.monotonic() - t:.0f} s")
    built = build_history(end - days * DAY, end - DAY) if days > 1 else 0.0
    built += build_history(end - DAY, end, daily=True)  # steady state: the timed daily run follows a daily pass
    say(f"  history loaded and built in {built:.0f} s")
    generate_hours(source, fleet, end, end + HOUR)
    hourly = flow_run(end)
    say(f"  hourly run: {hourly}")
    generate_hours(source, fleet, end + HOUR, end + 2 * HOUR)
    daily = flow_run(end + HOUR, "--cleanup")
    say(f"  daily run (--cleanup): {daily}")
    report = median_report(end - DAY, end)
    say(f"  grid report of {end - DAY:%Y-%m-%d}: {report}")
    vee_s, vee_rows, vee_pages, _ = vee_query(end - DAY)
    say(f"  VEE exceptions of {end - DAY:%Y-%m-%d}: {vee_rows:,} rows, {vee_pages:,} pages, in {vee_s:.3f} s")
    out = {"days": days, "rows": rows, "build s": built, "hourly": hourly, "daily": daily, "report of a day": report}
    out["vee query"] = {"s": vee_s, "rows": vee_rows, "pages": vee_pages}
    if days > 7:
        out["report of 7 days"] = median_report(end - 7 * DAY, end)
        say(f"  grid report of the 7 days before {end:%Y-%m-%d}: {out['report of 7 days']}")
    return out


def measures(fleet: Fleet, long_days: int) -> tuple[dict, dict]:
    """The part's (measures, details)."""
    end = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0) - 2 * DAY
    say(f"season: {fleet.meters:,} meters, {fleet.sensors:,} sensors ({fleet.rows_per_hour:,} rows/h), up to {end}")
    short = behind(fleet, end, 1)
    week = behind(fleet, end, 8)  # the 7 days reported behind 1 day, after the same runs as behind `long_days`
    long = behind(fleet, end, long_days)  # last: its warehouse is still there for EXPLAIN
    figures = {
        "hourly run": (long["hourly"]["wall"], short["hourly"]["wall"]),
        "daily run": (long["daily"]["wall"], short["daily"]["wall"]),
        "grid report of a day": (long["report of a day"]["s"], short["report of a day"]["s"]),
        "grid report of 7 days": (long["report of 7 days"]["s"], week["report of 7 days"]["s"]),
        "VEE exceptions of a day": (long["vee query"]["pages"], short["vee query"]["pages"]),
    }
    out = {}
    for name, (behind_long, behind_short) in figures.items():
        unit = UNITS.get(name, "s")
        out[f"season: {name}, behind 1 day, {unit}"] = behind_short
        out[f"season: {name}, behind {long_days} days, {unit}"] = behind_long
        out[f"season: {name}, {long_days} days / 1 day"] = ratio(behind_long, behind_short)
    out["peak RSS of a flow process, MB"] = max(r[k]["peak RSS MB"] for r in (short, long) for k in ("hourly", "daily"))
    explain_what_stands_in_the_way(out, short, long, long_days, end)
    return out, {"fleet": vars(fleet), "end": end.isoformat(), "behind 1 day": short, "week": week, "long": long}


def explain_what_stands_in_the_way(measured: dict, short: dict, long: dict, long_days: int, end: datetime) -> None:
    """For each season ratio over its target: the query's plan, or the run's steps."""
    over = [name for name, value in measured.items() if name.endswith(f"{long_days} days / 1 day") and value > FLAT]
    for name in over:
        if "run" in name:
            run = "daily" if "daily" in name else "hourly"
            say(f"\n{name} over {FLAT}, step by step:\n  behind 1 day: {short[run]}\n  behind {long_days}: {long[run]}")
    if any("VEE" in name for name in over):
        *_, plan = vee_query(end - DAY, explain=True)
        say(f"\nVEE exceptions of a day over {FLAT}: EXPLAIN (ANALYZE, BUFFERS)\n{plan}")
    if any("report" in name for name in over):
        seconds, view, plan = report_views(end - DAY, end)
        say(f"\nthe grid report over {FLAT}: its views' seconds for the last day behind {long_days} days "
            f"{seconds}; EXPLAIN (ANALYZE, BUFFERS) of the slowest, {view}:\n{plan}")  # fmt: skip


def report_views(start: datetime, end: datetime) -> tuple[dict, str, str]:
    """Each report view's seconds for the window, as the report reads it (orchestration/report/queries.py), and
    the plan of the slowest."""
    from orchestration.report.build import report_zone
    from orchestration.report.queries import CONDITIONS, VIEWS, name_window, window_parameters
    from orchestration.report.views import SCHEMA

    warehouse, _ = resolve_targets(SETTINGS)
    parameters = window_parameters(start.replace(tzinfo=None), end.replace(tzinfo=None), report_zone(SETTINGS))
    with connected(warehouse, application="smartgrid-bench-report") as conn, conn.cursor() as cur:
        name_window(cur, parameters)
        seconds = {}
        for view, cut in VIEWS.items():
            started = time.monotonic()
            cur.execute(f"select * from {SCHEMA}.{view} where {CONDITIONS[cut.kind]}", parameters)
            cur.fetchall()
            seconds[view] = round(time.monotonic() - started, 3)
        slowest = max(seconds, key=seconds.get)
        cur.execute(f"explain (analyze, buffers) select * from {SCHEMA}.{slowest} "
                    f"where {CONDITIONS[VIEWS[slowest].kind]}", parameters)  # fmt: skip
        plan = "\n".join(line for (line,) in cur.fetchall())
    return seconds, slowest, plan
