"""`smartgrid check`: the energy invariants and the fresh recomputation on demand (steps/daily_checks.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.cli.common import Verbose, say, settings


def check(
    full: Annotated[
        bool, typer.Option("--full", help="Every row and every meter of history, the whole-history checks too.")
    ] = False,
    verbose: Verbose = False,
) -> int:
    """Check the warehouse's invariants: by default what changed since the last daily pass, as the daily run does.

    Each meter-hour equals the sum of its interval parts, each interval's parts add up to its register delta, and
    a sample of meter-days recomputed from the readings equals the mart; with --full also each meter's energy over
    all of history and the VEE mart against the register. Exit code 1 when any fails, with the failing checks.
    """
    from orchestration.local.postgres import resolve_targets
    from orchestration.steps.daily_checks import check_args, last_daily_pass
    from orchestration.steps.dbt_runner import DbtFailure, run_dbt

    config = settings()
    warehouse, _ = resolve_targets(config)
    if not full:
        since = last_daily_pass(warehouse)
        say(f"checking what changed since the last daily pass ({since or 'none yet: everything'})")
    try:
        report = run_dbt(config, warehouse, *check_args(full), prefect=False)
    except DbtFailure as failure:
        say(f"FAILED: {failure}")
        return 1
    say(f"passed: {report.status_counts.get('pass', 0)} checks in {report.seconds:.1f} s")
    return 0
