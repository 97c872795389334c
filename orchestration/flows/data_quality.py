"""The flow's data-quality bookkeeping task; the logic lives in orchestration/dq_results.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

from orchestration.dq_results import record_run
from orchestration.settings import DbTarget


@task(name="record data quality", cache_policy=NO_CACHE)
def record_data_quality_task(warehouse: DbTarget, start: datetime, end: datetime, result: dict) -> dict:
    """Write every GX expectation and dbt data test of this run, and its score, to audit.dq_run_results."""
    from prefect.runtime import flow_run

    return record_run(warehouse, flow_run.id or str(uuid.uuid4()), start, end, result)
