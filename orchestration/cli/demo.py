"""`smartgrid simulate | demo`: simulated source data, and the flow over the last complete UTC hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from orchestration.cli.common import UsageError, Verbose, say, settings, utc_time

Meters = Annotated[int, typer.Option("--meters", help="Simulated meters.")]
Sensors = Annotated[int, typer.Option("--sensors", help="Simulated grid sensors (4 quantities each).")]


def simulate(
    start: Annotated[str, typer.Option("--start", help="ISO time, UTC (e.g. 2026-11-25T00:00).")],
    end: Annotated[str, typer.Option("--end", help="ISO time, UTC, exclusive.")],
    meters: Meters = 20,
    sensors: Sensors = 5,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same rows.")] = 7,
    defect_rate: Annotated[float, typer.Option("--defect-rate", help="Share of rows with a defect (0-0.2).")] = 0.01,
    verbose: Verbose = False,
) -> int:
    """Write simulated meter and sensor data into the source tables."""
    from orchestration.local.simulator import SimulationConfig

    start_t, end_t = utc_time(start, "--start"), utc_time(end, "--end")
    if start_t >= end_t:
        raise UsageError(f"--start {start_t.isoformat()} must be before --end {end_t.isoformat()}")
    try:
        config = SimulationConfig(meters, sensors, seed, defect_rate)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _simulate(start_t, end_t, config)
    return 0


def _simulate(start: datetime, end: datetime, config) -> None:
    from orchestration.db.connection import ensure_database
    from orchestration.local.postgres import resolve_targets
    from orchestration.local.simulator import simulate as write_rows

    _, source = resolve_targets(settings())
    ensure_database(source)
    inserted = write_rows(source, start, end, config)
    say(
        f"simulated {start.isoformat()} .. {end.isoformat()} into {source.describe()}: "
        f"{inserted['sensor_data']} sensor rows, {inserted['meter_readings']} meter rows, "
        f"{inserted['transformers']} transformer and {inserted['meter_connections']} meter connection versions"
    )


def demo(
    hours: Annotated[int, typer.Option("--hours", help="Complete UTC hours to simulate and process.")] = 24,
    meters: Meters = 20,
    sensors: Sensors = 5,
    verbose: Verbose = False,
) -> int:
    """Simulate the last complete UTC hours and run the flow over them."""
    from orchestration.cli.pipeline import run_flow
    from orchestration.local.prefect_server import api_url
    from orchestration.local.simulator import SimulationConfig
    from orchestration.results.render import as_text

    config = settings()
    end = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    _simulate(start, end, SimulationConfig(meters, sensors, seed=7, defect_rate=0.01))
    say(f"running smartgrid-etl-flow over {start.isoformat()} .. {end.isoformat()} (UTC)")
    success, report = run_flow(config, start, end, validation=True, cleanup=False)
    print()
    print(as_text(report))
    _print_window_rows(config, start, end)
    _print_hottest_transformers(config, start, end)
    print(f"""
where to look next:
  Prefect UI (flow runs, the dbt build's nodes, the run's summary artifact): {api_url(config).removesuffix("/api")}
  the prefect CLI:       export PREFECT_HOME={config.prefect_home}   then e.g.  .venv/bin/prefect flow-run ls
  dbt docs and lineage:  make docs-serve
  Great Expectations results: make gx-docs   (then gx/uncommitted/data_docs/local_site/index.html)
  the data itself:       psql "$(.venv/bin/smartgrid db url)"   then  select * from marts.fct_meter_consumption_hourly;
  the grid report:       make report ARGS="--start {start:%Y-%m-%dT%H:%M} --end {end:%Y-%m-%dT%H:%M}"
""")
    return 0 if success else 1


def _print_window_rows(config, start: datetime, end: datetime) -> None:
    """A table of the window's rows per raw table and mart, and the rejected rows by reason."""
    from rich.console import Console
    from rich.table import Table

    from orchestration.db.connection import connected
    from orchestration.local.postgres import resolve_targets
    from orchestration.steps.gx_project import set_validation_window, window_rows

    warehouse, _ = resolve_targets(config)
    table = Table("rows in the window", "rows", box=None, pad_edge=False)
    set_validation_window(config, warehouse, start, end)
    for relation, rows in window_rows(config, warehouse).items():
        name = relation.replace("raw_", "raw.", 1) if relation.startswith("raw_") else f"marts.{relation}"
        table.add_row(name, str(rows))
    print()
    Console(soft_wrap=True).print(table)
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select reason_code, count(*) from audit.rejected_readings group by 1 order by 2 desc")
        print("rejected rows (audit.rejected_readings): " + ", ".join(f"{reason} {n}" for reason, n in cur.fetchall()))


def _print_hottest_transformers(config, start: datetime, end: datetime, top: int = 5) -> None:
    """The transformers with the highest loading in the window (marts.fct_transformer_loading_hourly), local time."""
    from rich.console import Console
    from rich.table import Table

    from orchestration.db.connection import connected
    from orchestration.local.postgres import resolve_targets
    from orchestration.steps.dbt_project import project_vars

    warehouse, _ = resolve_targets(config)
    zone = project_vars(config)["local_time_zone"]
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute(
            """
            select distinct on (transformer_id)
                transformer_id, feeder_id, rated_kva, loading_pct, avg_kw,
                to_char(hour_start at time zone %(zone)s, 'HH24:MI'),
                count(*) filter (where is_overloaded) over (partition by transformer_id)
            from marts.fct_transformer_loading_hourly
            where hour_start >= %(start)s and hour_start < %(end)s and loading_pct is not null
            order by transformer_id, loading_pct desc, hour_start
            """,
            {"zone": zone, "start": start.isoformat() + "+00", "end": end.isoformat() + "+00"},
        )
        rows = sorted(cur.fetchall(), key=lambda row: row[3], reverse=True)[:top]
        cur.execute(
            "select coalesce(sum(energy_kwh), 0), coalesce(sum(meter_count), 0) "
            "from marts.fct_transformer_loading_hourly "
            "where transformer_id = 'unconnected' and hour_start >= %s and hour_start < %s",
            (start.isoformat() + "+00", end.isoformat() + "+00"),
        )
        unconnected_kwh, unconnected_meter_hours = cur.fetchone()
    if not rows:
        print("\nno network in the source: marts.fct_transformer_loading_hourly is empty")
        return
    table = Table("hottest transformers", "feeder", "kVA", "peak %", "kW", f"at ({zone})", "hours > limit",
                  box=None, pad_edge=False)  # fmt: skip
    for transformer, feeder, kva, pct, kw, hour, overloaded in rows:
        table.add_row(transformer, feeder, f"{float(kva):g}", f"{pct:.1f}", f"{kw:.1f}", hour, str(overloaded))
    print()
    Console(soft_wrap=True).print(table)
    print(f"unconnected: {unconnected_kwh:.1f} kWh in {unconnected_meter_hours} meter-hours (audit.network_exceptions)")
