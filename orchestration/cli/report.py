"""`smartgrid report [--start ISO] [--end ISO] [--out PATH] [--screenshot PNG]`: the grid report, one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.common import UsageError, Verbose, say, settings


def report(
    start: Annotated[str | None, typer.Option("--start", help="ISO time, UTC (default: 7 days before --end).")] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="ISO time, UTC, exclusive (default: today 00:00 UTC, or 7 days after --start)."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", help="The HTML file (default: $SMARTGRID_HOME/report/grid-report-<database>.html)."),
    ] = None,
    screenshot: Annotated[
        Path | None,
        typer.Option("--screenshot", help="Then open it in headless Chromium and save a screenshot (README's PNG)."),
    ] = None,
    verbose: Verbose = False,
) -> int:
    """The grid report: charts of load, meter data quality, power quality and pipeline health."""
    from orchestration.report.command import report_command
    from orchestration.window import WindowError

    try:
        return report_command(settings(), start, end, out, say=say, screenshot=screenshot)
    except WindowError as exc:
        raise UsageError(str(exc)) from None
