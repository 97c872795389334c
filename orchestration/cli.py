"""`smartgrid`: the command line. Heavy libraries (Prefect, dbt, GX) are imported only by the commands
that need them, so `smartgrid --help` and argument errors answer at once."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta

from orchestration.settings import ConfigurationError, Settings, load_settings
from orchestration.window import WindowError, resolve_window, to_utc_naive

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad arguments: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + traceback
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- db -------------------------------------------------------------------------------------------------


def cmd_db(args, settings: Settings) -> int:
    from orchestration import database

    if args.action == "start":
        if not settings.embedded:
            _say(f"POSTGRES_HOST is set ({settings.warehouse.host}): using that server, nothing to start")
        warehouse, source = database.resolve_targets(settings)
        for target in (warehouse, source):
            if database.with_retries(lambda t=target: database.ensure_database(t), what="connecting"):
                _say(f"created database {target.dbname}")
        _say(f"PostgreSQL is ready: warehouse {warehouse.describe()}, source {source.describe()}")
    elif args.action == "stop":
        if not settings.embedded:
            _say("POSTGRES_HOST is set: the pipeline does not manage that server")
            return 0
        _say(
            "embedded PostgreSQL stopped" if database.stop_embedded(settings) else "embedded PostgreSQL was not running"
        )
    elif args.action == "url":
        warehouse, source = database.resolve_targets(settings, start=False)
        print((source if args.source else warehouse).libpq_uri())
    return 0


# --- simulate --------------------------------------------------------------------------------------------


def _window_arg(value: str, name: str) -> datetime:
    try:
        return to_utc_naive(value, name)
    except WindowError as exc:
        raise UsageError(str(exc)) from None


def cmd_simulate(args, settings: Settings) -> int:
    from orchestration.database import ensure_database, resolve_targets, with_retries
    from orchestration.simulator import SimulationConfig, simulate

    start, end = _window_arg(args.start, "--start"), _window_arg(args.end, "--end")
    if start >= end:
        raise UsageError(f"--start {start.isoformat()} must be before --end {end.isoformat()}")
    try:
        config = SimulationConfig(args.meters, args.sensors, args.seed, args.defect_rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _, source = resolve_targets(settings)
    with_retries(lambda: ensure_database(source), what="connecting to the source")
    inserted = simulate(source, start, end, config)
    _say(
        f"simulated {start.isoformat()} .. {end.isoformat()} into {source.describe()}: "
        f"{inserted['sensor_data']} sensor rows, {inserted['meter_readings']} meter rows"
    )
    return 0


# --- run -------------------------------------------------------------------------------------------------


def run_flow(
    settings: Settings, start, end, *, validation: bool, cleanup: bool, name: str | None = None
) -> tuple[bool, dict]:
    """Run smartgrid_etl_flow against the local (or configured) Prefect API; return (success, result)."""
    from orchestration.database import ensure_database, resolve_targets, with_retries
    from orchestration.prefect_api import ensure_prefect_api

    warehouse, _ = resolve_targets(settings)
    with_retries(lambda: ensure_database(warehouse), what="connecting to the warehouse")
    ensure_prefect_api(settings, progress=_say)
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    flow = smartgrid_etl_flow.with_options(flow_run_name=name) if name else smartgrid_etl_flow
    state = flow(
        start_time=start, end_time=end, enable_validation=validation, enable_cleanup=cleanup, return_state=True
    )
    if state.is_completed():
        return True, state.result()
    error = state.result(raise_on_failure=False)
    result = dict(getattr(error, "result", None) or {})
    result["error"] = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(state.message)
    return False, result


def cmd_run(args, settings: Settings) -> int:
    try:
        start, end = resolve_window(args.start, args.end)
    except WindowError as exc:
        raise UsageError(str(exc)) from None
    success, result = run_flow(settings, start, end, validation=not args.no_validation, cleanup=args.cleanup)
    result = {"success": success, **result}
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print_summary(result)
    return 0 if success else 1


def print_summary(result: dict) -> None:
    window = result.get("window", {})
    print(f"window        {window.get('start')} .. {window.get('end')}")
    load = result.get("load")
    if load:
        for name, t in load["tables"].items():
            print(
                f"loaded        {t['rows_loaded']:>8} new rows into raw.{name} "
                f"({t['hours_copied']} source hours copied)"
            )
    dbt = result.get("dbt")
    if dbt:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(dbt["status_counts"].items()))
        print(f"dbt build     {'ok' if dbt['success'] else 'FAILED'} ({counts}) in {dbt['seconds']} s")
    checkpoint = result.get("checkpoint")
    if checkpoint:
        s = checkpoint["statistics"]
        print(
            f"checkpoint    {'passed' if checkpoint['success'] else 'FAILED'}: "
            f"{s['successful_expectations']}/{s['evaluated_expectations']} expectations, "
            f"rows validated {checkpoint['rows_validated']}"
        )
    dq = result.get("data_quality")
    if dq:
        print(
            f"data quality  score {dq['score']} over {dq['checks']} checks; failed: "
            f"{len(dq['failed_critical'])} critical, {len(dq['failed_warning'])} warning ({dq['table']})"
        )
        for check in dq["failed_critical"] + dq["failed_warning"]:
            print(f"  {check['severity']:<9}{check['check_name']} (observed {check['observed_value']})")
    for warning in result.get("warnings", []):
        print(f"warning       {warning}")
    if result.get("error"):
        print(f"error         {result['error']}")


# --- backfill ------------------------------------------------------------------------------------------


def cmd_backfill(args, settings: Settings) -> int:
    from orchestration.backfill import BackfillError, parse_chunk, run_backfill
    from orchestration.database import resolve_targets

    try:
        start, end = resolve_window(args.start, args.end)
        chunk = parse_chunk(args.chunk)
    except (WindowError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    warehouse, _ = resolve_targets(settings)

    def run_chunk(chunk_start, chunk_end):
        return run_flow(
            settings,
            chunk_start,
            chunk_end,
            validation=not args.no_validation,
            cleanup=False,
            name=f"backfill {chunk_start:%Y-%m-%dT%H} .. {chunk_end:%Y-%m-%dT%H}",
        )

    try:
        summary = run_backfill(warehouse, start, end, chunk, run_chunk, restart=args.restart)
    except KeyboardInterrupt:
        _say("backfill interrupted: finished chunks are recorded; run the same command again to resume")
        return 130
    except BackfillError as exc:
        _say(f"backfill stopped: {exc}")
        return 1
    print(
        f"backfill {start.isoformat()} .. {end.isoformat()} in chunks of {args.chunk}: "
        f"{summary.chunks_run} chunk(s) run, {summary.chunks_skipped} already done (of {summary.chunks_total}), "
        f"{summary.rows_loaded:,} rows loaded in {summary.seconds:.0f} s"
    )
    return 0


# --- demo ------------------------------------------------------------------------------------------------


def cmd_demo(args, settings: Settings) -> int:
    from orchestration.database import connected, resolve_targets
    from orchestration.prefect_api import ui_url
    from orchestration.quality import set_validation_window

    end = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=args.hours)
    simulate_args = argparse.Namespace(
        start=start.isoformat(),
        end=end.isoformat(),
        meters=args.meters,
        sensors=args.sensors,
        seed=7,
        defect_rate=0.01,
    )
    cmd_simulate(simulate_args, settings)
    _say(f"running smartgrid-etl-flow over {start.isoformat()} .. {end.isoformat()} (UTC)")
    success, result = run_flow(settings, start, end, validation=True, cleanup=False)
    print()
    print_summary(result)
    warehouse, _ = resolve_targets(settings)
    with connected(warehouse) as conn, conn.cursor() as cur:
        print("\nrows in the window:")
        for relation, rows in set_validation_window(warehouse, start, end).items():
            name = relation.replace("raw_", "raw.", 1) if relation.startswith("raw_") else f"marts.{relation}"
            print(f"  {name:<40} {rows:>6}")
        cur.execute("select reason_code, count(*) from audit.rejected_readings group by 1 order by 2 desc")
        print("rejected rows (audit.rejected_readings): " + ", ".join(f"{reason} {n}" for reason, n in cur.fetchall()))
    docs = (result.get("checkpoint") or {}).get("data_docs")
    print(f"""
where to look next:
  Prefect UI (flow runs, one task per dbt node, the run's summary artifact): {ui_url()}
  dbt docs and lineage:  make docs-serve   (or: make dbt ARGS="docs generate" && make dbt ARGS="docs serve")
  Great Expectations results: {docs or "gx/uncommitted/data_docs/local_site/index.html"}
  the data itself:       psql "$(.venv/bin/smartgrid db url)"   then  select * from marts.fct_meter_consumption_hourly;
  the grid report:       make report ARGS="--start {start:%Y-%m-%dT%H:%M} --end {end:%Y-%m-%dT%H:%M}"
""")
    return 0 if success else 1


# --- report (orchestration/report) ----------------------------------------------------------------------


def cmd_report(args, settings: Settings) -> int:
    from orchestration.report.command import report_command

    try:
        return report_command(settings, args.start, args.end, args.out, say=_say)
    except WindowError as exc:
        raise UsageError(str(exc)) from None


# --- prefect server --------------------------------------------------------------------------------------


def cmd_server(args, settings: Settings) -> int:
    from orchestration import prefect_api

    if args.action == "start":
        url = prefect_api.ensure_prefect_api(settings, progress=_say)
        _say(f"Prefect API at {url}; UI at {url.removesuffix('/api')}")
    else:
        _say("Prefect server stopped" if prefect_api.stop_server(settings) else "no Prefect server was running")
    return 0


# --- serve / stop --------------------------------------------------------------------------------------


def cmd_serve(args, settings: Settings) -> int:
    from orchestration import deployment
    from orchestration.database import ensure_database, resolve_targets, with_retries

    for target in resolve_targets(settings):
        with_retries(lambda t=target: ensure_database(t), what="connecting")
    ui = deployment.serve(settings, progress=_say)
    print(f"""
the hourly deployment is live: every hour at :00 UTC the worker processes the previous hour.
  Prefect UI:        {ui}/deployments
  run it now:        PREFECT_API_URL={ui}/api .venv/bin/prefect deployment run 'smartgrid-etl-flow/hourly'
  worker log:        {settings.prefect_home / "worker.log"}
  stop everything:   make stop
""")
    return 0


def cmd_stop(args, settings: Settings) -> int:
    from orchestration import database, deployment, prefect_api

    _say("worker stopped" if deployment.stop_worker(settings) else "no worker was running")
    _say("Prefect server stopped" if prefect_api.stop_server(settings) else "no Prefect server was running")
    if settings.embedded:
        _say(
            "embedded PostgreSQL stopped" if database.stop_embedded(settings) else "embedded PostgreSQL was not running"
        )
    return 0


# --- entry point -----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="smartgrid", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    db = commands.add_parser("db", help="the embedded PostgreSQL (when POSTGRES_HOST is unset)")
    db.add_argument("action", choices=["start", "stop", "url"])
    db.add_argument("--source", action="store_true", help="with `url`: the source database instead of the warehouse")
    db.set_defaults(handler=cmd_db)

    sim = commands.add_parser("simulate", help="write simulated meter and sensor data into the source tables")
    sim.add_argument("--start", required=True, help="ISO time, UTC (e.g. 2026-11-25T00:00)")
    sim.add_argument("--end", required=True, help="ISO time, UTC, exclusive")
    sim.add_argument("--meters", type=int, default=20)
    sim.add_argument("--sensors", type=int, default=5)
    sim.add_argument("--seed", type=int, default=7)
    sim.add_argument("--defect-rate", type=float, default=0.01, help="share of rows with a defect (0-0.2)")
    sim.set_defaults(handler=cmd_simulate)

    run = commands.add_parser("run", help="run smartgrid_etl_flow over a window (default: the previous hour)")
    run.add_argument("--start", help="hour-aligned ISO time, UTC")
    run.add_argument("--end", help="hour-aligned ISO time, UTC, exclusive")
    run.add_argument("--no-validation", action="store_true", help="skip the Great Expectations checkpoint")
    run.add_argument("--cleanup", action="store_true", help="delete raw rows older than the retention period")
    run.add_argument("--json", action="store_true", help="print the flow's result as JSON on the last line")
    run.set_defaults(handler=cmd_run)

    backfill = commands.add_parser("backfill", help="run the flow over a long window in resumable chunks")
    backfill.add_argument("--start", required=True, help="hour-aligned ISO time, UTC")
    backfill.add_argument("--end", required=True, help="hour-aligned ISO time, UTC, exclusive")
    backfill.add_argument("--chunk", default="24h", help="chunk length, e.g. 6h or 1d (default 24h)")
    backfill.add_argument("--no-validation", action="store_true", help="skip the Great Expectations checkpoint")
    backfill.add_argument("--restart", action="store_true", help="ignore chunks finished by an earlier invocation")
    backfill.set_defaults(handler=cmd_backfill)

    demo = commands.add_parser("demo", help="simulate the last complete UTC hours and run the flow over them")
    demo.add_argument("--hours", type=int, default=24)
    demo.add_argument("--meters", type=int, default=20)
    demo.add_argument("--sensors", type=int, default=5)
    demo.set_defaults(handler=cmd_demo)

    report = commands.add_parser("report", help="the grid report: one HTML file of charts (last 7 complete UTC days)")
    report.add_argument("--start", help="ISO time, UTC (default: 7 days before --end)")
    report.add_argument("--end", help="ISO time, UTC, exclusive (default: today 00:00 UTC, or 7 days after --start)")
    report.add_argument("--out", help="the HTML file (default: $SMARTGRID_HOME/report/grid-report-<database>.html)")
    report.set_defaults(handler=cmd_report)

    serve = commands.add_parser("serve", help="start the Prefect server, work pool, deployments and a worker")
    serve.set_defaults(handler=cmd_serve)

    stop = commands.add_parser("stop", help="stop the worker, the Prefect server and the embedded PostgreSQL")
    stop.set_defaults(handler=cmd_stop)

    server = commands.add_parser("server", help="the local Prefect server the CLI uses")
    server.add_argument("action", choices=["start", "stop"])
    server.set_defaults(handler=cmd_server)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("orchestration").setLevel(logging.DEBUG if args.verbose else logging.INFO)
        return args.handler(args, load_settings())
    except UsageError as exc:
        _say(f"smartgrid: error: {exc}")
        return EXIT_USAGE
    except ConfigurationError as exc:
        _say(f"smartgrid: configuration error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("smartgrid: interrupted")
        return 130
    except Exception as exc:  # a clear line for the operator; --verbose for the traceback
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        first_line = (str(exc).strip().splitlines() or [""])[0]
        _say(f"smartgrid: {type(exc).__name__}: {first_line}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
