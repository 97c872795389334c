"""Run the committed Great Expectations checkpoint over a run's window and summarise every expectation.

The suites and queries are defined in gx_project.py. A check's severity: `critical` (a failure fails the
run) or `warning` (recorded in audit.dq_run_results and shown; the run goes on).
"""

from __future__ import annotations

import time
from datetime import datetime

from orchestration.results.model import CheckpointReport, CheckpointStatistics, ExpectationCheck
from orchestration.settings import DbTarget, Settings
from orchestration.steps.gx_project import CHECKPOINT, gx_context, set_validation_window


def expectation_check(suite_name: str, check) -> ExpectationCheck:
    """One expectation's result as a row of audit.dq_run_results (see orchestration/steps/dq_results.py)."""
    config = check.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format") and v is not None}
    column = kwargs.pop("column", None) or (
        f"{kwargs.pop('column_A')}, {kwargs.pop('column_B')}" if "column_A" in kwargs else ""
    )
    result = check.result or {}
    observed = result.get("observed_value")
    if result.get("unexpected_percent") is not None:  # row-level: the share of rows that failed, %
        observed = result["unexpected_percent"]
        detail = f"{result.get('unexpected_count', 0)} of {result.get('element_count', 0)} rows unexpected"
    else:
        detail = f"observed {observed}"
    error = _exception_message(check.exception_info)
    if error:
        detail = f"error: {error}"[:300]
    severity = getattr(config, "severity", None) or "critical"  # a FailureSeverity (a str enum)
    return ExpectationCheck(
        name=f"{suite_name}: {config.type}({column})",
        checked_object=suite_name.removesuffix("_window"),
        severity=str(getattr(severity, "value", severity)),
        success=bool(check.success),
        observed_value=round(observed, 4) if isinstance(observed, int | float) else None,
        threshold=", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())),
        detail=detail,
    )


def _exception_message(info) -> str | None:
    """GX reports an expectation that could not be evaluated either directly or per metric."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "exception")
    return None


def run_checkpoint(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> CheckpointReport:
    """Validate the raw and marts rows of [start, end) with the committed checkpoint."""
    started = time.monotonic()
    set_validation_window(settings, warehouse, start, end)
    context = gx_context(settings, warehouse)  # waits for the flow's background import of GX
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    result = context.checkpoints.get(CHECKPOINT).run()
    totals = {"evaluated_expectations": 0, "successful_expectations": 0, "unsuccessful_expectations": 0}
    checks, rows = [], {}
    for validation in result.run_results.values():
        for key in totals:
            totals[key] += int(validation.statistics.get(key, 0))
        checks += [expectation_check(validation.suite_name, check) for check in validation.results]
        counted = [(check.result or {}).get("element_count") for check in validation.results]
        counted = [n for n in counted if n is not None]
        if counted:  # every row-level expectation counts the window's rows; they all read the same view
            rows[validation.suite_name.removesuffix("_window")] = max(counted)
    failed = [c for c in checks if not c.success and c.severity == "critical"]
    warned = [c for c in checks if not c.success and c.severity != "critical"]
    totals["failed_critical"], totals["failed_warning"] = len(failed), len(warned)
    totals["success_percent"] = (
        round(100 * totals["successful_expectations"] / totals["evaluated_expectations"], 1)
        if totals["evaluated_expectations"]
        else 100.0
    )
    docs = settings.gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return CheckpointReport(
        success=not failed,
        seconds=time.monotonic() - started,
        statistics=CheckpointStatistics(**totals),
        failed_expectations=[f"{c.name}, {c.detail}" for c in failed],
        warnings=[f"{c.name}, {c.detail}" for c in warned],
        rows_validated=rows,
        checks=checks,
        data_docs=str(docs) if docs.exists() else None,
    )
