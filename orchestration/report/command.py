"""`smartgrid report [--start ISO] [--end ISO] [--out PATH] [--screenshot PNG]` (and `make report`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestration.report.build import build_report, default_path, report_window, report_zone
from orchestration.settings import Settings


def report_command(
    settings: Settings,
    start: str | None,
    end: str | None,
    out: str | None,
    say: Callable,
    screenshot: Path | None = None,
) -> int:
    """Build the report and say where it is (and, with `screenshot`, check it in Chromium and save a screenshot);
    WindowError (bad --start/--end) is the caller's to report."""
    from orchestration.local.postgres import resolve_targets

    window = report_window(start, end, zone=report_zone(settings))
    warehouse, _ = resolve_targets(settings)
    path = Path(out).expanduser().resolve() if out else default_path(settings, warehouse)
    result = build_report(settings, warehouse, *window, path)
    if result.views_seconds is not None:
        say(f"report views (re)created with dbt in {result.views_seconds:.1f} s (dbt_smartgrid/models/reports)")
    if not result.pipeline_has_run:
        say("no data yet: the warehouse has no marts (run `make demo` or `smartgrid run` first)")
    print(
        f"grid report {window[0]:%Y-%m-%d %H:%M} .. {window[1]:%Y-%m-%d %H:%M} UTC: {result.charts_drawn} of "
        f"{result.charts} charts with data, written in {result.seconds:.1f} s\n  {result.path.as_uri()}"
    )
    if screenshot is not None:
        from orchestration.report.browser import check_in_browser

        return check_in_browser(result.path, screenshot)
    return 0
