"""`smartgrid report [--start ISO] [--end ISO] [--out PATH]`: the grid report, one self-contained HTML file."""

from __future__ import annotations

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
    verbose: Verbose = False,
) -> int:
    """The grid report: charts of load, meter data quality, power quality and pipeline health (orchestration/report)."""
    from orchestration.report.command import report_command
    from orchestration.window import WindowError

    try:
        return report_command(settings(), start, end, out, say=say)
    except WindowError as exc:
        raise UsageError(str(exc)) from None
