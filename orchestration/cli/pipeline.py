"""`smartgrid run | backfill`: the flow over one window, or over a long one in resumable chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from orchestration.cli.common import End, NoValidation, Start, UsageError, Verbose, say, settings, window


def run_flow(config, start: datetime, end: datetime, *, validation: bool, cleanup: bool, name: str | None = None):
    """Run smartgrid_etl_flow against the local (or configured) Prefect API; return (success, RunReport)."""
    from orchestration.db.connection import ensure_database
    from orchestration.local.postgres import resolve_targets
    from orchestration.local.prefect_server import ensure_prefect_api, using_api
    from orchestration.results.model import RunReport

    warehouse, _ = resolve_targets(config)
    ensure_database(warehouse)
    url = ensure_prefect_api(config, progress=say)
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    flow = smartgrid_etl_flow.with_options(flow_run_name=name) if name else smartgrid_etl_flow
    with using_api(config, url):
        state = flow(
            start_time=start, end_time=end, enable_validation=validation, enable_cleanup=cleanup, return_state=True
        )
        if state.is_completed():
            return True, state.result()
        error = state.result(raise_on_failure=False)
    message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(state.message)
    return False, (getattr(error, "report", None) or RunReport()).failed(message)


def run(
    start: Start = None,
    end: End = None,
    no_validation: NoValidation = False,
    cleanup: Annotated[
        bool,
        typer.Option(
            "--cleanup",
            help="The daily run: judge the VEE days, check the invariants and older days, delete old raw rows.",
        ),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the run's report as JSON on the last line.")] = False,
    verbose: Verbose = False,
) -> int:
    """Run smartgrid_etl_flow over a window (default: the previous complete UTC hour)."""
    from orchestration.results.render import as_json, as_text

    start_t, end_t = window(start, end)
    success, report = run_flow(settings(), start_t, end_t, validation=not no_validation, cleanup=cleanup)
    print(as_json(report) if json else as_text(report))
    return 0 if success else 1


def backfill(
    start: Annotated[str, typer.Option("--start", help="Hour-aligned ISO time, UTC.")],
    end: Annotated[str, typer.Option("--end", help="Hour-aligned ISO time, UTC, exclusive.")],
    chunk: Annotated[str, typer.Option("--chunk", help="Chunk length, e.g. 6h or 1d.")] = "24h",
    no_validation: NoValidation = False,
    restart: Annotated[bool, typer.Option("--restart", help="Ignore chunks finished by an earlier run.")] = False,
    verbose: Verbose = False,
) -> int:
    """Run the flow over a long window in resumable chunks, with a progress bar."""
    from orchestration.flows.backfill import BackfillError, parse_chunk, run_backfill
    from orchestration.local.postgres import resolve_targets

    start_t, end_t = window(start, end)
    try:
        chunk_length = parse_chunk(chunk)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from orchestration.db.connection import ensure_database

    config = settings()
    warehouse, _ = resolve_targets(config)
    ensure_database(warehouse)  # a new warehouse is created, as `smartgrid run` does

    def run_chunk(chunk_start, chunk_end):
        name = f"backfill {chunk_start:%Y-%m-%dT%H} .. {chunk_end:%Y-%m-%dT%H}"
        return run_flow(config, chunk_start, chunk_end, validation=not no_validation, cleanup=False, name=name)

    try:
        summary = run_backfill(warehouse, start_t, end_t, chunk_length, run_chunk, restart=restart)
    except KeyboardInterrupt:
        say("backfill interrupted: finished chunks are recorded; run the same command again to resume")
        return 130
    except BackfillError as exc:
        say(f"backfill stopped: {exc}")
        return 1
    print(
        f"backfill {start_t.isoformat()} .. {end_t.isoformat()} in chunks of {chunk}: "
        f"{summary.chunks_run} chunk(s) run, {summary.chunks_skipped} already done (of {summary.chunks_total}), "
        f"{summary.rows_loaded:,} rows loaded in {summary.seconds:.0f} s"
    )
    if summary.chunks_past_retention:
        print(f"{summary.chunks_past_retention} chunk(s) not loaded: before the retention horizon "
              f"{summary.retention_horizon.isoformat()}")  # fmt: skip
    return 0
