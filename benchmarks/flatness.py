"""The `flatness` part of `make bench`: a smaller fleet backfilled day by day (`smartgrid backfill`, rows/s end to
end, peak RSS of the process), and the same hourly run timed behind 1 day and behind 14 days of history."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from benchmarks.fleet import Fleet, generate_hours
from benchmarks.harness import fresh_databases, grid_report, hourly_run, say, smartgrid

T0 = datetime(2026, 6, 1)


def flatness(fleet: Fleet, short_days: int, long_days: int) -> dict:
    """The same hourly run behind `short_days` and `long_days` of history; the long history is a backfill."""
    out = {}
    for days in (short_days, long_days):
        _, source = fresh_databases()
        end = T0 + timedelta(days=days)
        t = time.monotonic()
        rows = generate_hours(source, fleet, T0, end)
        say(
            f"flatness: {days} day(s) of {fleet.meters:,} meters / {fleet.sensors:,} sensors: {rows:,} rows "
            f"generated in {time.monotonic() - t:.0f} s; backfilling"
        )
        _, wall, rss, _ = smartgrid("backfill", "--start", T0.isoformat(), "--end", end.isoformat(), "--chunk", "24h")
        generate_hours(source, fleet, end, end + timedelta(hours=1))
        run = hourly_run(end)
        say(f"  backfill {rows / wall:,.0f} rows/s, peak RSS {rss:.0f} MB; the next hour: {run}")
        report = grid_report(end - timedelta(days=7), end)
        say(f"  the grid report of the last 7 days (rewritten once a day): {report}")
        out[days] = {"backfill rows/s": rows / wall, "backfill peak RSS MB": rss, "run": run, "report": report}
    return out


def measures(fleet: Fleet, short_days: int, long_days: int) -> tuple[dict, dict]:
    flat = flatness(fleet, short_days, long_days)
    return {
        f"flatness: {long_days}-day / {short_days}-day hourly run": flat[long_days]["run"]["wall"]
        / flat[short_days]["run"]["wall"],
        "peak RSS of a flow process, MB": flat[long_days]["backfill peak RSS MB"],
        "backfill rows/s (end to end)": flat[long_days]["backfill rows/s"],
        f"grid report of 7 days behind {long_days} days, s": flat[long_days]["report"]["s"],
    }, flat
