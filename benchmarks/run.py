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

os.environ.setdefault("POSTGRES_DB", "smartgrid_bench_warehouse")
os.environ.setdefault("SOURCE_POSTGRES_DB", "smartgrid_bench_source")

from orchestration.database import connected, drop_database, ensure_database, resolve_targets  # noqa: E402
from orchestration.dbt_runner import run_dbt  # noqa: E402
from orchestration.settings import load_settings  # noqa: E402
from orchestration.simulator import SimulationConfig, simulate  # noqa: E402

DAYS = int(os.environ.get("BENCH_DAYS", 7))
CONFIG = SimulationConfig(
    meters=int(os.environ.get("BENCH_METERS", 200)), sensors=int(os.environ.get("BENCH_SENSORS", 10)), seed=11
)
END = datetime(2026, 6, 1)
START = END - timedelta(days=DAYS)

TARGETS = {  # name: (limit, unit, higher is better)
    "initial load throughput": (20_000, "rows/s", True),
    "initial load peak memory": (150, "MB", False),
    "hourly run: load": (10, "s", False),
    "hourly run: dbt build (incremental)": (45, "s", False),
    "grid report of the scenario (views exist)": (10, "s", False),
}

LOAD_IN_CHILD = """
import sys, json, resource
from datetime import datetime
from orchestration.settings import load_settings
from orchestration.database import resolve_targets
from orchestration.loader import load_raw
wh, src = resolve_targets(load_settings())
r = load_raw(wh, src, datetime.fromisoformat(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
print(json.dumps({"rows": r.rows_loaded, "seconds": r.seconds,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def load_in_child(start: datetime, end: datetime) -> dict:
    """Run one load in its own process, so its peak memory is its own."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", LOAD_IN_CHILD, start.isoformat(), end.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    settings = load_settings()
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

    from orchestration.report import build_report  # the grid report of the whole scenario, as `make report` builds it

    first = build_report(settings, warehouse, START, END, settings.home / "report" / "grid-report-bench.html")
    results["grid report: creating its views with dbt"] = first.views_seconds or 0.0
    again = build_report(settings, warehouse, START, END, first.path)
    results["grid report of the scenario (views exist)"] = again.seconds

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
