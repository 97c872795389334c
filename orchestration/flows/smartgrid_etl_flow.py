"""The hourly ELT: load raw -> dbt build -> GX checkpoint -> optional cleanup (docs/data-contract.md §5).

Tasks are thin: each calls one step of orchestration/steps/ and returns its part of the run's RunReport.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from orchestration.db.connection import connection_errors, is_transient
from orchestration.db.connection_check import DatabaseUnreachable, explain
from orchestration.db.lock import run_lock
from orchestration.db.roles import as_loader
from orchestration.flows.alerts import alert_on_failure
from orchestration.flows.watchdog import current_timeout, deadline, load_timeout_seconds, run_timeout_seconds
from orchestration.local.postgres import resolve_targets
from orchestration.process_exit import skip_final_collection
from orchestration.report.artifacts import grid_report_task
from orchestration.results.model import (
    CheckpointReport,
    DataQualityReport,
    DbtReport,
    LoadResult,
    RetentionReport,
    RunReport,
    RunWindow,
)
from orchestration.results.render import as_markdown
from orchestration.secrets import with_secret_blocks
from orchestration.settings import DbTarget, Settings, load_settings
from orchestration.steps import background_imports, daily_checks, dbt_project, mart_backup
from orchestration.steps.checkpoint import run_checkpoint
from orchestration.steps.dbt_runner import DbtFailure, run_dbt
from orchestration.steps.dq_results import record_run
from orchestration.steps.freshness import check_source_freshness  # past error_after: SourceStale fails the run
from orchestration.steps.gx_project import CHECKPOINT
from orchestration.steps.loader import load_raw
from orchestration.steps.mart_changes import mart_watermarks, rebuilt_since, rejected_by_reason
from orchestration.steps.reconcile import DailySweep
from orchestration.steps.retention import cleanup_raw
from orchestration.steps.run_steps import record_run_steps
from orchestration.warehouse_slot import warehouse_slot
from orchestration.window import resolve_window


class CheckpointFailed(RuntimeError):
    """A critical data-quality check failed; the marts are built but must not be trusted."""

    def __init__(self, message: str, report: RunReport):
        super().__init__(message)
        self.report = report


def retry_on_connection_errors(task, task_run, state) -> bool:
    """Prefect retry condition: only errors that waiting can fix (an unreachable database, not a wrong password)."""
    error = state.result(raise_on_failure=False)
    return is_transient(error.__cause__ if isinstance(error, DatabaseUnreachable) else error)


@task(
    name="load raw",
    cache_policy=NO_CACHE,
    retries=4,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),  # 2, 4, 8, 16 s
    retry_jitter_factor=1,
    retry_condition_fn=retry_on_connection_errors,
    timeout_seconds=load_timeout_seconds(),
)
def load_raw_task(
    warehouse: DbTarget,
    source: DbTarget,
    start: datetime,
    end: datetime,
    reconcile_hours: int,
    daily: DailySweep | None,
) -> LoadResult:
    """Copy every source row before `end` that raw lacks; one transaction per table, so a retry is safe."""
    with deadline([warehouse, source], current_timeout()):  # a hung load fails (flows/watchdog.py)
        try:
            return load_raw(warehouse, source, start, end, reconcile_hours=reconcile_hours, daily=daily or None)
        except connection_errors() as exc:  # one line: which database, which setting, why
            raise DatabaseUnreachable(explain(exc, {"warehouse": warehouse, "source": source})) from exc


@task(name="dbt build", cache_policy=NO_CACHE)
def dbt_build_task(settings: Settings, warehouse: DbTarget, loaded_at: datetime, daily: bool = False) -> DbtReport:
    """Build what the new rows changed: the `hourly` selector, or in the daily run `daily_run` (the VEE day checks
    and the invariants since the last daily pass, steps/daily_checks.py). Never retried blindly.

    One task for the whole build (its nodes are listed in the `smartgrid-dbt-nodes` artifact); with
    SMARTGRID_DBT_NODE_TASKS=1 prefect-dbt makes each dbt node a task, at ~0.2 s a node."""
    marts = dbt_project.marts(settings)  # from the dbt manifest: a new mart is backed up and restored too
    before = mart_watermarks(warehouse, marts)
    mart_backup.clear(warehouse)
    try:
        report = run_dbt(
            settings, warehouse, *daily_checks.build_args(daily), prefect=settings.dbt_node_tasks,
            extra_env=mart_backup.ENV,
        )  # fmt: skip
    except DbtFailure:
        restored = mart_backup.restore(warehouse, before)
        get_run_logger().error("dbt build failed: the marts were put back as they were (%s rows restored)", restored)
        raise
    create_table_artifact(
        key="smartgrid-dbt-nodes", table=report.nodes, description="dbt build: every node, its status and seconds"
    )
    if daily:
        daily_checks.record_daily_pass(warehouse)
    report.rebuilt = rebuilt_since(warehouse, marts, before)
    report.rejected_in_this_load = rejected_by_reason(warehouse, loaded_at)
    return report


@task(name="validate run window", cache_policy=NO_CACHE)
def validate_window_task(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> CheckpointReport:
    """GX checkpoint: row-level plausibility of the window's raw rows, aggregate plausibility of its marts rows."""
    return run_checkpoint(settings, warehouse, start, end)


@task(name="record data quality", cache_policy=NO_CACHE)
def record_data_quality_task(
    warehouse: DbTarget, start: datetime, end: datetime, checkpoint: CheckpointReport | None, dbt: DbtReport
) -> DataQualityReport:
    """Write every GX expectation and dbt data test of this run, and its score, to audit.dq_run_results."""
    from prefect.runtime import flow_run

    return record_run(warehouse, flow_run.id or str(uuid.uuid4()), start, end, checkpoint, dbt)


@task(name="clean up raw", cache_policy=NO_CACHE)
def cleanup_task(warehouse: DbTarget, end: datetime, retention_days: int) -> RetentionReport:
    """Delete raw rows older than the retention period, in batches."""
    return cleanup_raw(warehouse, end, retention_days)


def _scheduled_start() -> datetime | None:
    from prefect.runtime import flow_run

    scheduled = flow_run.scheduled_start_time
    return scheduled if flow_run.id else None


def run_name() -> str:
    """The run's name: its deployment (or `run`) and its window, e.g. `hourly 2026-12-04T10:00Z`."""
    from prefect.runtime import deployment, flow_run

    parameters = flow_run.parameters or {}
    prefix = deployment.name or "run"
    try:
        start, end = resolve_window(
            parameters.get("start_time"), parameters.get("end_time"), reference=_scheduled_start()
        )
    except Exception:  # the flow itself reports a bad window
        return f"{prefix} (invalid window)"
    name = f"{prefix} {start:%Y-%m-%dT%H:%M}Z"
    return name if end - start == timedelta(hours=1) else f"{name} .. {end:%Y-%m-%dT%H:%M}Z"


@flow(
    name="smartgrid-etl-flow",
    flow_run_name=run_name,
    log_prints=True,
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
    timeout_seconds=run_timeout_seconds(),  # a hung run fails and releases the run lock (flows/watchdog.py)
)
def smartgrid_etl_flow(
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    enable_validation: bool = True,
    enable_cleanup: bool = False,
) -> RunReport:
    """Process the UTC window [start_time, end_time); by default the hour before the scheduled start."""
    logger = get_run_logger()
    skip_final_collection()  # the process that runs the flow (a worker's, or `smartgrid run`) exits at once
    background_imports.start("dbt.cli.main")  # ~2 s, while the load runs
    if enable_validation:
        background_imports.start("great_expectations", "great_expectations.expectations")  # ~8 s: load and dbt
    start, end = resolve_window(start_time, end_time, reference=_scheduled_start())
    settings = with_secret_blocks(load_settings())
    warehouse, source = resolve_targets(settings)
    logger.info("window %s .. %s (UTC); warehouse %s; source %s",
                start.isoformat(), end.isoformat(), warehouse.describe(), source.describe())  # fmt: skip
    report = RunReport(window=RunWindow.of(start, end), warnings=[])
    loader = as_loader(warehouse, settings)  # the least-privilege loader role, when configured (db/roles.py)
    # the warehouse slot shows a waiting run as waiting in Prefect; the advisory lock guards the database
    with (
        warehouse_slot(settings.warehouse_slot),
        run_lock(warehouse),
        deadline([warehouse, loader, source], current_timeout()),
    ):
        # the daily cleanup run also compares the recent days and a sweep of older ones (data contract §2)
        daily = DailySweep.of(settings) if enable_cleanup else None
        report.load = load_raw_task(loader, source, start, end, settings.reconcile_hours, daily)
        if report.load.window_is_empty:
            warning = f"freshness: the source has no rows for {start.isoformat()} .. {end.isoformat()}"
            logger.warning(warning)
            report.warnings.append(warning)
        report.dbt = dbt_build_task(settings, warehouse, report.load.loaded_at, daily=enable_cleanup)
        report.warnings += check_source_freshness(settings, warehouse)  # dbt's declared freshness; alerts
        report.checkpoint = validate_window_task(settings, warehouse, start, end) if enable_validation else None
        report.data_quality = record_data_quality_task(warehouse, start, end, report.checkpoint, report.dbt)
        now = datetime.now(UTC).replace(tzinfo=None)
        report.cleanup = cleanup_task(loader, now, settings.retention_days) if enable_cleanup else None
    record_run_steps(warehouse, report)  # audit.run_steps: seconds per step, for the grid report
    create_markdown_artifact(
        key="smartgrid-etl-summary", markdown=as_markdown(report), description="smartgrid ELT run summary"
    )
    if report.checkpoint is not None and not report.checkpoint.success:
        failed = "; ".join(report.checkpoint.failed_expectations)
        message = f"Great Expectations checkpoint {CHECKPOINT} failed: {failed}"
        raise CheckpointFailed(message, report.failed(message))
    # after a good run, when its window of complete days has moved; the daily run always (orchestration/report)
    report.grid_report = grid_report_task(settings, warehouse, always=enable_cleanup)
    return report
