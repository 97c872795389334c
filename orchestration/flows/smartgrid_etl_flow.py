"""The hourly ELT: load raw -> dbt build -> Great Expectations checkpoint -> optional cleanup (SPEC §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from orchestration import mart_backup
from orchestration.alerts import alert_on_failure
from orchestration.connection_check import DatabaseUnreachable, explain
from orchestration.database import connection_errors, resolve_targets, run_lock
from orchestration.dbt_runner import DbtFailure, run_dbt
from orchestration.dq_results import record_run
from orchestration.freshness import check_source_freshness
from orchestration.loader import load_raw
from orchestration.observability import mart_watermarks, rebuilt_since, rejected_by_reason
from orchestration.quality import CHECKPOINT, prepare_checkpoint_in_background, run_checkpoint
from orchestration.retention import cleanup_raw
from orchestration.roles import as_loader
from orchestration.secrets import with_secret_blocks
from orchestration.settings import DbTarget, Settings, load_settings
from orchestration.summary import summary_markdown
from orchestration.watchdog import current_timeout, deadline, load_timeout_seconds, run_timeout_seconds
from orchestration.window import resolve_window


class CheckpointFailed(RuntimeError):
    """A critical data-quality check failed; the marts are built but must not be trusted."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


@task(name="load raw", cache_policy=NO_CACHE, timeout_seconds=load_timeout_seconds())
def load_raw_task(
    warehouse: DbTarget, source: DbTarget, start: datetime, end: datetime, reconcile_hours: int, full: bool
) -> dict:
    """Copy every source row before `end` that raw lacks (retries connection errors with backoff)."""
    with deadline([warehouse, source], current_timeout()):  # a hung load fails (orchestration/watchdog.py)
        try:
            return load_raw(
                warehouse, source, start, end, reconcile_hours=reconcile_hours, full_reconcile=full
            ).to_dict()
        except connection_errors() as exc:  # one line: which database, which setting, why
            raise DatabaseUnreachable(explain(exc, {"warehouse": warehouse, "source": source})) from exc


@task(name="dbt build", cache_policy=NO_CACHE)
def dbt_build_task(settings: Settings, warehouse: DbTarget, loaded_at: str) -> dict:
    """Build the `hourly` selector: what the new rows changed. Never retried blindly.

    One task for the whole build (its nodes are listed in the `smartgrid-dbt-nodes` artifact); with
    SMARTGRID_DBT_NODE_TASKS=1 prefect-dbt makes each dbt node a task, at ~0.2 s a node."""
    before = mart_watermarks(warehouse)
    mart_backup.clear(warehouse)
    try:
        outcome = run_dbt(
            settings,
            warehouse,
            "build",
            "--selector",
            "hourly",
            prefect=settings.dbt_node_tasks,
            extra_env=mart_backup.ENV,
        )
    except DbtFailure:
        restored = mart_backup.restore(warehouse, before)
        get_run_logger().error("dbt build failed: the marts were put back as they were (%s rows restored)", restored)
        raise
    create_table_artifact(
        key="smartgrid-dbt-nodes", table=outcome.nodes, description="dbt build: every node, its status and seconds"
    )
    result = outcome.to_dict()
    result["rebuilt"] = rebuilt_since(warehouse, before)
    result["rejected_in_this_load"] = rejected_by_reason(warehouse, datetime.fromisoformat(loaded_at))
    return result


@task(name="validate run window", cache_policy=NO_CACHE)
def validate_window_task(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> dict:
    """GX checkpoint: row-level plausibility of the window's raw rows, aggregate plausibility of its marts rows."""
    return run_checkpoint(settings, warehouse, start, end).to_dict()


@task(name="record data quality", cache_policy=NO_CACHE)
def record_data_quality_task(warehouse: DbTarget, start: datetime, end: datetime, result: dict) -> dict:
    """Write every GX expectation and dbt data test of this run, and its score, to audit.dq_run_results."""
    from prefect.runtime import flow_run

    return record_run(warehouse, flow_run.id or str(uuid.uuid4()), start, end, result)


@task(name="clean up raw", cache_policy=NO_CACHE)
def cleanup_task(warehouse: DbTarget, end: datetime, retention_days: int) -> dict:
    """Delete raw rows older than the retention period, in batches."""
    return cleanup_raw(warehouse, end, retention_days)


def _scheduled_start() -> datetime | None:
    from prefect.runtime import flow_run

    scheduled = flow_run.scheduled_start_time
    return scheduled if flow_run.id else None


@flow(
    name="smartgrid-etl-flow",
    log_prints=True,
    on_failure=[alert_on_failure],
    on_crashed=[alert_on_failure],
    timeout_seconds=run_timeout_seconds(),  # a hung run fails and releases the run lock (orchestration/watchdog.py)
)
def smartgrid_etl_flow(
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    enable_validation: bool = True,
    enable_cleanup: bool = False,
) -> dict:
    """Process the UTC window [start_time, end_time); by default the hour before the scheduled start."""
    logger = get_run_logger()
    if enable_validation:
        prepare_checkpoint_in_background()  # imports Great Expectations (~8 s) while the load and dbt run
    start, end = resolve_window(start_time, end_time, reference=_scheduled_start())
    settings = with_secret_blocks(load_settings())
    warehouse, source = resolve_targets(settings)
    logger.info(
        "window %s .. %s (UTC); warehouse %s; source %s",
        start.isoformat(),
        end.isoformat(),
        warehouse.describe(),
        source.describe(),
    )
    result: dict = {"window": {"start": start.isoformat() + "Z", "end": end.isoformat() + "Z"}, "warnings": []}
    with run_lock(warehouse), deadline([warehouse, as_loader(warehouse), source], current_timeout()):
        # the daily cleanup run also compares every hour of history with the source (docs/data-contract.md §2)
        result["load"] = load_raw_task(
            as_loader(warehouse), source, start, end, settings.reconcile_hours, enable_cleanup
        )
        if result["load"]["window_is_empty"]:
            warning = f"freshness: the source has no rows for {start.isoformat()} .. {end.isoformat()}"
            logger.warning(warning)
            result["warnings"].append(warning)
        result["dbt"] = dbt_build_task(settings, warehouse, result["load"]["loaded_at"])
        result["warnings"] += check_source_freshness(settings, warehouse)  # dbt's declared freshness; alerts
        result["checkpoint"] = validate_window_task(settings, warehouse, start, end) if enable_validation else None
        result["data_quality"] = record_data_quality_task(warehouse, start, end, result)
        result["cleanup"] = (
            cleanup_task(as_loader(warehouse), datetime.now(UTC).replace(tzinfo=None), settings.retention_days)
            if enable_cleanup
            else None
        )
    create_markdown_artifact(
        key="smartgrid-etl-summary", markdown=summary_markdown(result), description="smartgrid ELT run summary"
    )
    checkpoint = result["checkpoint"]
    if checkpoint is not None and not checkpoint["success"]:
        raise CheckpointFailed(
            f"Great Expectations checkpoint {CHECKPOINT} failed: " + "; ".join(checkpoint["failed_expectations"]),
            result,
        )
    return result
