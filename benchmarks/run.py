"""`make bench`: speed and memory of the load and the hourly rebuild, against targets.

Scenario (override with BENCH_DAYS, BENCH_METERS, BENCH_SENSORS): simulate history into a benchmark source
database, load it all, build the marts from scratch, then add one hour of new data plus late rows for
old hours and time the hourly path (load + incremental dbt build) the way every scheduled run does it.
Uses the databases smartgrid_bench_warehouse / smartgrid_bench_source (dropped and recreated).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta

from orchestration.db.connection import connected, drop_database, ensure_database
from orchestration.db.targets import resolve_targets
from orchestration.local.simulator import SimulationConfig, simulate
from orchestration.settings import load_settings, subprocess_environment
from orchestration.steps.dbt_runner import run_dbt

BENCH_DATABASES = {"POSTGRES_DB": "smartgrid_bench_warehouse", "SOURCE_POSTGRES_DB": "smartgrid_bench_source"}
SETTINGS = load_settings(defaults=BENCH_DATABASES)  # POSTGRES_DB / SOURCE_POSTGRES_DB in the environment win
DAYS = SETTINGS.bench_days
CONFIG = SimulationConfig(meters=SETTINGS.bench_meters, sensors=SETTINGS.bench_sensors, seed=11)
END = datetime(2026, 6, 1)
START = END - timedelta(days=DAYS)

TARGETS = {  # name: (limit, unit, higher is better)
    "initial load throughput": (20_000, "rows/s", True),
    "initial load peak memory": (150, "MB", False),
    "hourly run: load": (10, "s", False),
    "hourly run: dbt build (incremental)": (45, "s", False),
}

LOAD_IN_CHILD = """
import sys, json, resource
from datetime import datetime
from orchestration.settings import load_settings
from orchestration.db.targets import resolve_targets
from orchestration.steps.loader import load_raw
wh, src = resolve_targets(load_settings())
r = load_raw(wh, src, datetime.fromisoformat(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
print(json.dumps({"rows": r.rows_loaded, "seconds": r.seconds,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_databases(settings) -> dict[str, str]:
    """The benchmark's databases, for the child process that loads (it reads its settings anew)."""
    return {"POSTGRES_DB": settings.postgres_db, "SOURCE_POSTGRES_DB": settings.source_postgres_db}


def load_in_child(start: datetime, end: datetime) -> dict:
    """Run one load in its own process, so its peak memory is its own."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", LOAD_IN_CHILD, start.isoformat(), end.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        env=subprocess_environment(bench_databases(SETTINGS)),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    settings = SETTINGS
    warehouse, source = resolve_targets(settings)
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    print(f"scenario: {DAYS} days, {CONFIG.meters} meters, {CONFIG.sensors} sensors (4 quantities each)")

    t = time.monotonic()
    rows = simulate(source, START, END, CONFIG, now=END + timedelta(hours=2))
    print(f"simulated {sum(rows.values())} source rows in {time.monotonic() - t:.1f} s")

    results = {}
    initial = load_in_child(START, END)
    results["initial load throughput"] = initial["rows"] / initial["seconds"]
    results["initial load peak memory"] = initial["max_rss_mb"]
    print(f"initial load: {initial['rows']} rows in {initial['seconds']:.1f} s")

    t = time.monotonic()
    run_dbt(settings, warehouse, "build", prefect=False)
    results["initial dbt build (full)"] = time.monotonic() - t

    # the next hour arrives, with late rows for hours days old (re-sent readings under new event ids)
    simulate(source, END, END + timedelta(hours=1), CONFIG, now=END + timedelta(hours=2))
    with connected(source) as conn, conn.cursor() as cur:
        cur.execute(
            'insert into meter_readings (event_id, meter_id, customer_id, reading, unit, "timestamp", created_at) '
            "select event_id || '-late', meter_id, customer_id, reading, unit, \"timestamp\", "
            "created_at + interval '1 minute' "
            'from meter_readings where id %% 500 = 0 and "timestamp" < %s',
            (END,),
        )
        late = cur.rowcount
    hourly = load_in_child(END, END + timedelta(hours=1))
    results["hourly run: load"] = hourly["seconds"]
    t = time.monotonic()
    run_dbt(settings, warehouse, "build", prefect=False)
    results["hourly run: dbt build (incremental)"] = time.monotonic() - t
    print(f"hourly run: {hourly['rows']} new rows ({late} of them late, for old hours)")

    failed = 0
    print(f"\n{'measure':<40} {'value':>12}   target")
    for name, value in results.items():
        target = TARGETS.get(name)
        if target:
            limit, unit, higher = target
            ok = value >= limit if higher else value <= limit
            failed += not ok
            verdict = f"{'>=' if higher else '<='} {limit} {unit}  {'ok' if ok else 'MISSED'}"
        else:
            verdict = "(reported)"
        print(f"{name:<40} {value:>12.1f}   {verdict}")
    print(
        f"\nmachine: {os.cpu_count()} cores; peak RSS of this process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
