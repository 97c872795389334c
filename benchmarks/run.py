"""`make bench`: speed and memory at a utility's size, how they grow with history, each against its target.

Parts (`--only PART` runs one; every run appends its figures to benchmarks/results.jsonl, benchmarks/record.py):

- utility-s (benchmarks/utility_s.py): the utility-S hour (100,000 meters, 2,000 sensors: 880,000 rows an hour)
  behind 2 hours and behind a day and 2 hours (both at 02:00); the load against binary COPY in 1 and N streams; an
  hour without new rows; the day's costliest hour, at local midnight (22:00 UTC) behind 46 hours.
- flatness (benchmarks/flatness.py): a 5,000-meter fleet backfilled over 14 days, the hourly run behind 1 and 14.
- season (benchmarks/season.py): a 1,000-meter fleet behind 1 and 60 days: the hourly run, the daily run, the grid
  report of a day and of 7 days, and an analyst's query of one day's VEE exceptions.
- network (benchmarks/network.py): the utility-S hour with a network of 5,000 transformers and without one.

Every timed flow run records, beside its steps and its models of 0.5 s or more, what the warehouse's server wrote
during it (benchmarks/harness.py, server_writes): WAL MB, WAL full-page images, checkpoints requested.

`--quick` runs the same steps with small fleets and short histories, for development; its figures are recorded
with "mode": "quick" and checked against no target. Source data is generated inside the database
(benchmarks/fleet.py) in the databases smartgrid_bench_warehouse and smartgrid_bench_source (dropped and recreated).
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import flatness, network, record, season, utility_s
from benchmarks.fleet import UTILITY_S, Fleet

PARTS = ("utility-s", "flatness", "season", "network")

TARGETS = {  # measure: (limit, higher is better)
    "utility-S hourly run behind 1 day, wall s": (30, False),
    "utility-S hour: behind 1 day / behind 2 hours": (1.2, False),
    "utility-S hourly run at local midnight, 46 h of history, wall s": (30, False),  # the day's costliest hour
    "flatness: 14-day / 1-day hourly run": (1.2, False),
    "load / N-stream COPY into raw": (0.8, True),  # earlier lines: "load / N-stream COPY", into empty tables
    "fixed overhead (hour without new rows): dbt + checkpoint s": (10, False),
    "peak RSS of a flow process, MB": (1024, False),
    **{f"season: {name}, 60 days / 1 day": (season.FLAT, False) for name in season.FIGURES},
    "network: hourly run with / without a network": (1.1, False),
}


def run_part(part: str, quick: bool) -> tuple[dict, dict, dict]:
    """(measures, details, scenario) of one part."""
    if part == "utility-s":
        fleet = Fleet(2_000, 40) if quick else UTILITY_S
        measures, details = utility_s.measures(fleet)
        return measures, details, {"fleet": vars(fleet), "history hours": [2, utility_s.DAY_HOURS]}
    if part == "flatness":
        fleet, short_days, long_days = (Fleet(200, 5), 1, 2) if quick else (Fleet(5_000, 100), 1, 14)
        measures, details = flatness.measures(fleet, short_days, long_days)
        return measures, details, {"fleet": vars(fleet), "days": [short_days, long_days]}
    if part == "network":
        fleet = Fleet(2_000, 40) if quick else UTILITY_S
        measures, details = network.measures(fleet)
        return measures, details, {"fleet": vars(fleet), "history hours": network.HISTORY_HOURS}
    fleet, long_days = (season.QUICK_FLEET, 9) if quick else (season.SEASON_FLEET, 60)
    measures, details = season.measures(fleet, long_days)
    return measures, details, {"fleet": vars(fleet), "days": [1, long_days]}


def verdicts(measures: dict, quick: bool) -> dict[str, str]:
    out = {}
    for name, value in measures.items():
        target = TARGETS.get(name)
        if target is None or quick:
            out[name] = "(reported)"
            continue
        limit, higher = target
        ok = value >= limit if higher else value <= limit
        out[name] = f"{'>=' if higher else '<='} {limit}  {'ok' if ok else 'MISSED'}"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small fleets and short histories (development)")
    parser.add_argument("--only", choices=PARTS, help="run one part")
    args = parser.parse_args()
    parts = (args.only,) if args.only else PARTS
    started, load_before, measured_commit = time.monotonic(), record.load_average(), record.commit()
    measures: dict[str, float] = {}
    details, scenarios = {}, {}
    for part in parts:
        part_measures, details[part], scenarios[part] = run_part(part, args.quick)
        for name, value in part_measures.items():  # a measure two parts share (peak RSS) keeps the larger
            measures[name] = max(value, measures.get(name, value))
    judged = verdicts(measures, args.quick)
    print(f"\n{'measure':<66} {'value':>10}   target")
    for name, value in measures.items():
        print(f"{name:<66} {value:>10.2f}   {judged[name]}")
    seconds = time.monotonic() - started
    line = record.append(
        {
            "commit": measured_commit,
            "mode": "quick" if args.quick else "full",
            "parts": list(parts),
            "seconds": round(seconds),
            "load_average_before": load_before,  # 1, 5, 15 minutes: other work on the machine
            "load_average_after": record.load_average(),
            "scenario": scenarios,
            "measures": {name: round(value, 3) for name, value in measures.items()},
            "verdicts": judged,
            "details": details,
        }
    )
    print(f"\n{line['machine']}; commit {line['commit']}; {seconds:.0f} s; load average {load_before} -> "
          f"{line['load_average_after']}\nappended to {record.RESULTS.name} (benchmarks/)")  # fmt: skip
    return 1 if any("MISSED" in verdict for verdict in judged.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
