"""The hourly ELT: load raw -> dbt build -> Great Expectations checkpoint -> optional cleanup (SPEC §5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from orchestration import mart_backup
from orchestration.alerts import alert_on_failure
from orchestration.database import resolve_targets, run_lock
from orchestration.dbt_runner import DbtFailure, run_dbt
from orchestration.dq_results import record_run
from orchestration.loader import load_raw
from orchestration.observability import mart_watermarks, rebuilt_since, rejected_by_reason
from orchestration.quality import CHECKPOINT, run_checkpoint
from orchestration.report.artifacts import grid_report_task
from orchestration.retention import cleanup_raw
from orchestration.run_steps import record_run_steps
from orchestration.secrets import with_secret_blocks
from orchestration.settings import DbTarget, Settings, load_settings
from orchestration.summary import summary_markdown
from orchestration.window import resolve_window


class CheckpointFailed(RuntimeError):
    """A critical data-quality check failed; the marts are built but must not be trusted."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


@task(name="load raw", cache_policy=NO_CACHE)
def load_raw_task(warehouse: DbTarget, source: DbTarget, start: datetime, end: datetime) -> dict:
    """Copy every source row before `end` that raw lacks (retries connection errors with backoff)."""
    return load_raw(warehouse, source, start, end).to_dict()


@task(name="dbt build", cache_policy=NO_CACHE)
def dbt_build_task(settings: Settings, warehouse: DbTarget, loaded_at: str) -> dict:
    """Build the `hourly` selector: the hours whose inputs changed, each dbt node as a task. Never retried blindly."""
    before = mart_watermarks(warehouse)
    mart_backup.clear(warehouse)
    try:
        result = run_dbt(settings, warehouse, "build", "--selector", "hourly", extra_env=mart_backup.ENV).to_dict()
    except DbtFailure:
        restored = mart_backup.restore(warehouse, before)
        get_run_logger().error("dbt build failed: the marts were put back as they were (%s rows restored)", restored)
        raise
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


@flow(name="smartgrid-etl-flow", log_prints=True, on_failure=[alert_on_failure], on_crashed=[alert_on_failure])
def smartgrid_etl_flow(
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    enable_validation: bool = True,
    enable_cleanup: bool = False,
) -> dict:
    """Process the UTC window [start_time, end_time); by default the hour before the scheduled start."""
    logger = get_run_logger()
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
    with run_lock(warehouse):
        result["load"] = load_raw_task(warehouse, source, start, end)
        if result["load"]["window_is_empty"]:
            warning = f"freshness: the source has no rows for {start.isoformat()} .. {end.isoformat()}"
            logger.warning(warning)
            result["warnings"].append(warning)
        result["dbt"] = dbt_build_task(settings, warehouse, result["load"]["loaded_at"])
        result["checkpoint"] = validate_window_task(settings, warehouse, start, end) if enable_validation else None
        result["data_quality"] = record_data_quality_task(warehouse, start, end, result)
        result["cleanup"] = (
            cleanup_task(warehouse, datetime.now(UTC).replace(tzinfo=None), settings.retention_days)
            if enable_cleanup
            else None
        )
    record_run_steps(warehouse, result)  # audit.run_steps: seconds per step, for the grid report
    create_markdown_artifact(
        key="smartgrid-etl-summary", markdown=summary_markdown(result), description="smartgrid ELT run summary"
    )
    checkpoint = result["checkpoint"]
    if checkpoint is not None and not checkpoint["success"]:
        raise CheckpointFailed(
            f"Great Expectations checkpoint {CHECKPOINT} failed: " + "; ".join(checkpoint["failed_expectations"]),
            result,
        )
    result["report"] = grid_report_task(settings, warehouse)  # after a good run: the grid report (orchestration/report)
    return result
