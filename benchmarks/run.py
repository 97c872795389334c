"""`make bench`: the hourly run at a utility's size, how it grows with history, and the load against COPY.

Every figure comes from this one run, on this machine, on the same rows (benchmarks/results.json):

- utility-S: 100,000 meters (a register every 15 min) and 2,000 sensors reporting voltage, current, power and
  frequency every minute: 880,000 source rows an hour. Two hours of history are loaded and built first; then
  the next hour arrives, with 0.5 % of the previous hour's rows arriving late, and one hourly flow run
  (`smartgrid run --json`, a fresh process, as a worker starts it, against a running Prefect server) is timed
  end to end and step by step, with each heavy dbt model. An hour with no new rows gives the fixed overhead.
- load vs limit: the loader's rows/s for that hour against a plain COPY and an INSERT ... SELECT of the same
  rows into a table shaped like raw (same columns, same indexes).
- flatness and backfill: a smaller fleet (FLAT_FLEET) is backfilled day by day (`smartgrid backfill`, rows/s
  end to end, peak RSS of the process), and the same hourly run is timed with 1 day and with 14 days of
  history behind it.

`--quick` runs the same steps with a small fleet and short histories (under 2 minutes) for development.
Source data is generated inside the database (benchmarks/fleet.py). Uses the databases
smartgrid_bench_warehouse and smartgrid_bench_source (dropped and recreated).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks.fleet import UTILITY_S, Fleet, generate_hours
from orchestration.db.connection import connected, drop_database, ensure_database
from orchestration.local.postgres import resolve_targets
from orchestration.report.build import default_path
from orchestration.settings import REPO_ROOT, load_settings, subprocess_environment
from orchestration.steps.loader import SOURCE_COLUMNS, stream_copy

BENCH_DATABASES = {"POSTGRES_DB": "smartgrid_bench_warehouse", "SOURCE_POSTGRES_DB": "smartgrid_bench_source"}
SETTINGS = load_settings(defaults=BENCH_DATABASES)  # POSTGRES_DB / SOURCE_POSTGRES_DB in the environment win

RESULTS = Path(__file__).with_name("results.json")
SMARTGRID = str(Path(sys.executable).with_name("smartgrid"))
T0 = datetime(2026, 6, 1)

TARGETS = {  # measure: (limit, higher is better)
    "utility-S hourly run, wall s": (30, False),
    "flatness: 14-day / 1-day hourly run": (1.2, False),
    "load / plain COPY": (0.8, True),
    "fixed overhead (hour without new rows): dbt + checkpoint s": (10, False),
    "peak RSS of a flow process, MB": (1024, False),
}


def say(message: str) -> None:
    print(message, flush=True)


def fresh_databases():
    warehouse, source = resolve_targets(SETTINGS)
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    default_path(SETTINGS, warehouse).unlink(missing_ok=True)  # the first run writes the grid report, as in use
    return warehouse, source


def smartgrid(*args: str) -> tuple[dict, float, float]:
    """Run the CLI in a fresh process; return (its --json result or {}, wall seconds, the process's peak RSS MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    databases = {"POSTGRES_DB": SETTINGS.postgres_db, "SOURCE_POSTGRES_DB": SETTINGS.source_postgres_db}
    done = subprocess.run([SMARTGRID, *args], capture_output=True, text=True, env=subprocess_environment(databases))
    wall = time.monotonic() - started
    rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"`smartgrid {' '.join(args)}` failed (exit {done.returncode})")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), wall, rss


def hourly_run(hour: datetime) -> dict:
    """One hourly flow run as a worker starts it; wall time, steps and the slowest dbt models' seconds."""
    result, wall, rss = smartgrid(
        "run", "--start", hour.isoformat(), "--end", (hour + timedelta(hours=1)).isoformat(), "--json"
    )
    timings = {
        "wall": round(wall, 1),
        "load": result["load"]["seconds"],
        "dbt build": result["dbt"]["seconds"],
        "checkpoint": (result.get("checkpoint") or {}).get("seconds", 0),
        "grid report": round((result.get("grid_report") or {}).get("seconds", 0), 1),
        "rows loaded": result["load"]["rows_loaded"],
        "peak RSS MB": round(rss),
    }
    run_results = json.loads((REPO_ROOT / "dbt_smartgrid/target/run_results.json").read_text())
    for node in run_results["results"]:  # where the dbt build's time goes: every model of 0.5 s or more
        if node["unique_id"].startswith("model.") and node["execution_time"] >= 0.5:
            timings[f"  {node['unique_id'].split('.')[-1]}"] = round(node["execution_time"], 1)
    return timings


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


def utility_s(fleet: Fleet, history_hours: int) -> dict:
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
    first, _, _ = smartgrid("run", "--start", start.isoformat(), "--end", hour.isoformat(), "--json")
    say(f"  first run over the history: load {first['load']['seconds']} s, dbt {first['dbt']['seconds']} s")
    generate_hours(source, fleet, hour, hour + timedelta(hours=1))
    late = generate_hours(source, fleet, hour - timedelta(hours=1), hour, late_share=0.005, late=True)
    run = hourly_run(hour)
    say(f"  the next hour ({late:,} late rows for the hour before): {run}")
    limits = copy_limits(warehouse, source, hour)
    idle = hourly_run(hour + timedelta(hours=1))
    say(f"  an hour without new rows: {idle}")
    return {"run": run, "limits": limits, "idle": idle}


def flatness(fleet: Fleet, short_days: int, long_days: int) -> dict:
    """The same hourly run behind `short_days` and `long_days` of history; the long history is a backfill."""
    out = {}
    for days in (short_days, long_days):
        warehouse, source = fresh_databases()
        end = T0 + timedelta(days=days)
        t = time.monotonic()
        rows = generate_hours(source, fleet, T0, end)
        say(
            f"flatness: {days} day(s) of {fleet.meters:,} meters / {fleet.sensors:,} sensors: {rows:,} rows "
            f"generated in {time.monotonic() - t:.0f} s; backfilling"
        )
        _, wall, rss = smartgrid("backfill", "--start", T0.isoformat(), "--end", end.isoformat(), "--chunk", "24h")
        generate_hours(source, fleet, end, end + timedelta(hours=1))
        run = hourly_run(end)
        say(f"  backfill {rows / wall:,.0f} rows/s, peak RSS {rss:.0f} MB; the next hour: {run}")
        _, report_wall, _ = smartgrid("report", "--start", (end - timedelta(days=7)).isoformat(), "--end", str(end))
        say(f"  the grid report of the last 7 days (rewritten once a day): {report_wall:.1f} s")
        out[days] = {"backfill rows/s": rows / wall, "backfill peak RSS MB": rss, "run": run, "report s": report_wall}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small fleet and short histories (< 2 minutes)")
    parser.add_argument("--only", choices=("utility-s", "flatness"), help="run one part (results.json not written)")
    args = parser.parse_args()
    fleet = Fleet(2_000, 40) if args.quick else UTILITY_S
    flat_fleet, short_days, long_days = (Fleet(200, 5), 1, 2) if args.quick else (Fleet(5_000, 100), 1, 14)

    started = time.monotonic()
    if args.only == "utility-s":
        utility_s(fleet, history_hours=2)
        return 0
    if args.only == "flatness":
        flatness(flat_fleet, short_days, long_days)
        return 0
    big = utility_s(fleet, history_hours=2)
    flat = flatness(flat_fleet, short_days, long_days)
    measures = {
        "utility-S hourly run, wall s": big["run"]["wall"],
        "flatness: 14-day / 1-day hourly run": flat[long_days]["run"]["wall"] / flat[short_days]["run"]["wall"],
        "load / plain COPY": (big["run"]["rows loaded"] / big["run"]["load"]) / big["limits"]["plain COPY rows/s"],
        "fixed overhead (hour without new rows): dbt + checkpoint s": big["idle"]["dbt build"]
        + big["idle"]["checkpoint"],
        "peak RSS of a flow process, MB": max(big["run"]["peak RSS MB"], flat[long_days]["backfill peak RSS MB"]),
        "loader rows/s": big["run"]["rows loaded"] / big["run"]["load"],
        "plain COPY rows/s": big["limits"]["plain COPY rows/s"],
        "INSERT ... SELECT rows/s": big["limits"]["INSERT ... SELECT rows/s"],
        "backfill rows/s (end to end)": flat[long_days]["backfill rows/s"],
        "grid report (once a day), 7 of 14 days, s": flat[long_days]["report s"],
    }
    failed = 0
    print(f"\n{'measure':<62} {'value':>10}   target")
    for name, value in measures.items():
        target = TARGETS.get(name)
        verdict = "(reported)"
        if target and not args.quick:
            limit, higher = target
            ok = value >= limit if higher else value <= limit
            failed += not ok
            verdict = f"{'>=' if higher else '<='} {limit}  {'ok' if ok else 'MISSED'}"
        print(f"{name:<62} {value:>10.2f}   {verdict}")
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB"
    print(f"\nmachine: {machine}; the whole benchmark took {time.monotonic() - started:.0f} s")
    report = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "machine": machine,
        "fleet": {"meters": fleet.meters, "sensors": fleet.sensors, "rows_per_hour": fleet.rows_per_hour},
        "flatness_fleet": {"meters": flat_fleet.meters, "sensors": flat_fleet.sensors, "days": [short_days, long_days]},
        "measures": measures,
        "utility_s": big,
        "flatness": flat,
    }
    RESULTS.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"written to {RESULTS.relative_to(REPO_ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
