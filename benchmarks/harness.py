"""What every part of `make bench` shares: its two databases, the CLI in a fresh process, timed runs and reports.

Uses the databases smartgrid_bench_warehouse and smartgrid_bench_source (dropped and recreated by each part).
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2

from orchestration.db.connection import connected, drop_database, ensure_database
from orchestration.local.postgres import resolve_targets
from orchestration.report.build import default_path
from orchestration.settings import REPO_ROOT, load_settings, subprocess_environment

BENCH_DATABASES = {"POSTGRES_DB": "smartgrid_bench_warehouse", "SOURCE_POSTGRES_DB": "smartgrid_bench_source"}
SETTINGS = load_settings(defaults=BENCH_DATABASES)  # POSTGRES_DB / SOURCE_POSTGRES_DB in the environment win
SMARTGRID = str(Path(sys.executable).with_name("smartgrid"))
STATS_FLUSH_SECONDS = 1.5


def say(message: str) -> None:
    print(message, flush=True)


def fresh_databases():
    warehouse, source = resolve_targets(SETTINGS)
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    default_path(SETTINGS, warehouse).unlink(missing_ok=True)  # the first run writes the grid report, as in use
    return warehouse, source


def smartgrid(*args: str) -> tuple[dict, float, float, str]:
    """Run the CLI in a fresh process; return (its --json result or {}, wall seconds, the process's peak RSS MB,
    its output)."""
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
    return (json.loads(lines[-1]) if lines else {}), wall, rss, done.stdout


def build_history(start: datetime, end: datetime, chunk: timedelta | None = None, daily: bool = False) -> float:
    """Load and build [start, end) with as few flow runs as the chunk allows (no checkpoint: not what is timed);
    return the seconds. With `daily`, the last run is a daily run (--cleanup), as a warehouse in use has had its
    daily runs: the VEE days judged and the invariants' pass recorded. The warehouse is then vacuumed and
    analyzed, as autovacuum would have done by then."""
    started = time.monotonic()
    chunk = chunk or (end - start)
    at = start
    while at < end:
        last = at + chunk >= end
        cleanup = ("--cleanup",) if daily and last else ()
        window = ("--start", at.isoformat(), "--end", min(at + chunk, end).isoformat())
        smartgrid("run", *window, "--no-validation", *cleanup)
        at += chunk
    vacuum_analyze()
    return time.monotonic() - started


def settle(warehouse) -> None:
    """CHECKPOINT on the bench's server, where the bench's role may run it (superuser or pg_checkpoint)."""
    with connected(warehouse, application="smartgrid-bench", autocommit=True) as conn, conn.cursor() as cur:
        try:
            cur.execute("checkpoint")
        except psycopg2.errors.InsufficientPrivilege:
            say(f"  (no CHECKPOINT before the timed run: {warehouse.user} may not run it)")


def vacuum_analyze() -> None:
    warehouse, source = resolve_targets(SETTINGS)
    for target in (warehouse, source):
        with connected(target, application="smartgrid-bench", autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("vacuum (analyze)")


def server_counters(target) -> dict[str, int] | None:
    """The server's cumulative WAL bytes, WAL full-page images and requested checkpoints (PostgreSQL 14 or later;
    the checkpoint count moved to pg_stat_checkpointer in 17), or None where they cannot be read. Server-wide:
    everything the server wrote, autovacuum included."""
    checkpoints = (
        "select num_requested from pg_stat_checkpointer",  # PostgreSQL 17 and later
        "select checkpoints_req from pg_stat_bgwriter",
    )
    with connected(target, application="smartgrid-bench", autocommit=True) as conn, conn.cursor() as cur:
        try:
            cur.execute("select wal_bytes, wal_fpi from pg_stat_wal")
            wal_bytes, fpi = cur.fetchone()
        except psycopg2.Error:
            return None
        for query in checkpoints:
            try:
                cur.execute(query)
            except psycopg2.Error:
                continue
            return {"wal_bytes": int(wal_bytes), "fpi": int(fpi), "checkpoints": int(cur.fetchone()[0])}
    return None


def server_writes(before: dict | None, after: dict | None) -> dict:
    """What the server wrote between two server_counters: WAL MB, full-page images (the first change of a page after
    a checkpoint writes the whole 8 kB page), checkpoints requested because the WAL reached max_wal_size."""
    if before is None or after is None:
        return {}
    return {
        "WAL MB": round((after["wal_bytes"] - before["wal_bytes"]) / 2**20),
        "WAL full-page images": after["fpi"] - before["fpi"],
        "checkpoints requested": after["checkpoints"] - before["checkpoints"],
    }


def flow_run(hour: datetime, *options: str) -> dict:
    """One flow run over [hour, hour + 1 h) as a worker starts it; wall time, steps, the slowest dbt models, and what
    the warehouse's server wrote (server_writes).

    The server writes its dirty pages first (settle): the bench has just inserted the hour's rows into the source
    in one burst, on the warehouse's server, and their flush would otherwise land inside the timed run. In use the
    source is written across the hour, on its own server."""
    warehouse, _ = resolve_targets(SETTINGS)
    settle(warehouse)
    before = server_counters(warehouse)
    result, wall, rss, _ = smartgrid(
        "run", "--start", hour.isoformat(), "--end", (hour + timedelta(hours=1)).isoformat(), "--json", *options
    )
    time.sleep(STATS_FLUSH_SECONDS)  # a backend reports its WAL counts within a second, and as it exits
    writes = server_writes(before, server_counters(warehouse))
    timings = {
        "wall": round(wall, 1),
        "load": result["load"]["seconds"],
        "dbt build": result["dbt"]["seconds"],
        "checkpoint": (result.get("checkpoint") or {}).get("seconds", 0),
        "grid report": round((result.get("grid_report") or {}).get("seconds", 0), 1),
        "rows loaded": result["load"]["rows_loaded"],
        "peak RSS MB": round(rss),
        **writes,
    }
    run_results = json.loads((REPO_ROOT / "dbt_smartgrid/target/run_results.json").read_text())
    for node in run_results["results"]:  # where the dbt build's time goes: every model or test of 0.5 s or more
        kind, name = node["unique_id"].split(".")[0], node["unique_id"].split(".")[2]
        if kind in ("model", "test") and node["execution_time"] >= 0.5:  # a test that reads history shows here
            timings[f"  {name}" if kind == "model" else f"  test {name[:60]}"] = round(node["execution_time"], 1)
    return timings


def hourly_run(hour: datetime) -> dict:
    return flow_run(hour)


def grid_report(start: datetime, end: datetime) -> dict:
    """`smartgrid report` of [start, end): its own seconds without dbt's (re)creation of the report's views (the
    views are dropped by every dbt build of the audit views they read), and the process's wall time."""
    _, wall, rss, output = smartgrid("report", "--start", start.isoformat(), "--end", end.isoformat())
    written = float(re.search(r"written in ([\d.]+) s", output).group(1))
    views = re.search(r"views \(re\)created with dbt in ([\d.]+) s", output)
    views_seconds = float(views.group(1)) if views else 0.0
    return {"s": round(written - views_seconds, 2), "views s": views_seconds, "wall": round(wall, 1), "rss": rss}


def ratio(long: float, short: float) -> float:
    return long / short if short else float("inf")
