"""Seconds per step of every flow run, in `audit.run_steps`, for the grid report's "run durations per step".

The flow's result already carries each step's seconds (it shows them in the run's summary artifact); this
keeps them after the run. One row per run and step; re-recording a run replaces its rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from orchestration.db.connection import connected
from orchestration.results.model import RunReport
from orchestration.settings import DbTarget

STEPS_TABLE = "audit.run_steps"
STEPS = {"load": "load", "dbt build": "dbt", "checkpoint": "checkpoint"}  # step -> its part of the RunReport

DDL = f"""
create schema if not exists audit;
create table if not exists {STEPS_TABLE} (
    run_id       text not null,         -- the Prefect flow run id (as in audit.dq_run_results)
    window_start timestamptz not null,  -- the run's window [window_start, window_end), UTC
    window_end   timestamptz not null,
    step         text not null,         -- load | dbt build | checkpoint
    seconds      numeric(10, 2) not null,
    recorded_at  timestamptz not null,
    primary key (run_id, step)
);
"""


def step_seconds(report: RunReport) -> dict[str, float]:
    """The seconds of each step the run went through (a skipped checkpoint has none)."""
    return {step: getattr(report, part).seconds for step, part in STEPS.items() if getattr(report, part)}


def record_run_steps(warehouse: DbTarget, report: RunReport) -> dict[str, float]:
    """Write the run's step seconds under its run id (the one its data-quality checks carry); return them."""
    run_id = report.data_quality.run_id
    window = {"start": report.window.start, "end": report.window.end}
    seconds = step_seconds(report)
    with connected(warehouse, application="smartgrid-run-steps") as conn, conn.cursor() as cur:
        cur.execute(DDL)
        cur.execute(f"delete from {STEPS_TABLE} where run_id = %s", (run_id,))
        cur.executemany(
            f"insert into {STEPS_TABLE} values (%s, %s, %s, %s, %s, %s)",
            [(run_id, window["start"], window["end"], step, s, datetime.now(UTC)) for step, s in seconds.items()],
        )
    return seconds
