"""One run report, three ways: text for the terminal, Markdown for the Prefect artifact, JSON for scripts."""

from __future__ import annotations

import json

from orchestration.results.model import CheckpointReport, DataQualityReport, DbtReport, LoadResult, RunReport
from orchestration.sources import NETWORK_COLUMNS


def as_json(report: RunReport) -> str:
    """One line; the keys `smartgrid run --json` has always printed."""
    return json.dumps(report.as_dict(), default=str)


def as_text(report: RunReport) -> str:
    lines = []
    if report.window:
        lines.append(f"window        {report.window.start} .. {report.window.end}")
    for name, t in (report.load.tables if report.load else {}).items():
        copied = "(network versions)" if name in NETWORK_COLUMNS else f"({t.hours_copied} source hours copied)"
        lines.append(f"loaded        {t.rows_loaded:>8} new rows into raw.{name} {copied}")
    if report.dbt:
        dbt, counts = report.dbt, ", ".join(f"{k} {v}" for k, v in sorted(report.dbt.status_counts.items()))
        lines.append(f"dbt build     {'ok' if dbt.success else 'FAILED'} ({counts}) in {round(dbt.seconds, 2)} s")
    if report.checkpoint:
        c, s = report.checkpoint, report.checkpoint.statistics
        lines.append(
            f"checkpoint    {'passed' if c.success else 'FAILED'}: {s.successful_expectations}/"
            f"{s.evaluated_expectations} expectations, rows validated {c.rows_validated}"
        )
    if dq := report.data_quality:
        lines.append(
            f"data quality  score {dq.score} over {dq.checks} checks; failed: {len(dq.failed_critical)} critical, "
            f"{len(dq.failed_warning)} warning ({dq.table})"
        )
        lines += [f"  {c.severity:<9}{c.check_name} (observed {c.observed_value})" for c in _failed(dq)]
    lines += [f"warning       {warning}" for warning in report.warnings]
    if report.error:
        lines.append(f"error         {report.error}")
    return "\n".join(lines)


def as_markdown(report: RunReport) -> str:
    """The run's Prefect artifact (`smartgrid-etl-summary`)."""
    window = report.window
    lines = [f"# smartgrid ELT: {window.start} .. {window.end}" if window else "# smartgrid ELT", ""]
    durations = []
    if report.load:
        lines += _load_markdown(report.load)
        durations.append(("load", report.load.seconds))
    if report.dbt:
        lines += _dbt_markdown(report.dbt)
        durations.append(("dbt build", report.dbt.seconds))
    if report.checkpoint:
        lines += _checkpoint_markdown(report.checkpoint)
        durations.append(("checkpoint", report.checkpoint.seconds))
    elif "checkpoint" in report.model_fields_set:
        lines += ["## Great Expectations", "", "skipped (enable_validation=false)", ""]
    lines += _data_quality_markdown(report.data_quality)
    if cleanup := report.cleanup:
        lines += ["## Retention", "", f"raw rows before {cleanup.horizon} deleted: {cleanup.rows_deleted}", ""]
    if durations:
        lines += ["## Durations", "", "| step | seconds |", "|---|---:|"]
        lines += [f"| {step} | {round(seconds, 2)} |" for step, seconds in durations]
        lines.append("")
    if report.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def _failed(dq: DataQualityReport):
    return dq.failed_critical + dq.failed_warning


def _load_markdown(load: LoadResult) -> list[str]:
    lines = ["## Load", "", "| table | rows new to raw | source hours copied | rows in window |"]
    lines.append("|---|---:|---:|---:|")
    lines += [f"| {name} | {t.rows_loaded} | {t.hours_copied} | {t.window_rows} |" for name, t in load.tables.items()]
    return [*lines, ""]


def _dbt_markdown(dbt: DbtReport) -> list[str]:
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(dbt.status_counts.items()))
    lines = ["## dbt build", "", f"{'succeeded' if dbt.success else 'FAILED'} ({counts})", ""]
    if dbt.rebuilt:
        lines += ["| mart | rows rebuilt | hours (days) rebuilt |", "|---|---:|---:|"]
        for mart, n in dbt.rebuilt.items():
            lines.append(f"| {mart} | {n.rows} | {n.hours if n.hours is not None else n.days} |")
        lines.append("")
    reasons = ", ".join(f"{reason} {n}" for reason, n in dbt.rejected_in_this_load.items()) or "none"
    return [*lines, f"Rows of this load rejected by the validity rules: {reasons}", ""]


def _checkpoint_markdown(checkpoint: CheckpointReport) -> list[str]:
    stats = checkpoint.statistics
    lines = [
        "## Great Expectations",
        "",
        f"{'passed' if checkpoint.success else 'FAILED'}: {stats.successful_expectations} of "
        f"{stats.evaluated_expectations} expectations met; rows validated: {checkpoint.rows_validated}",
        "",
    ]
    failures = [f"- critical: {failure}" for failure in checkpoint.failed_expectations]
    failures += [f"- warning: {warning}" for warning in checkpoint.warnings]
    return lines + failures + ([""] if failures else [])


def _data_quality_markdown(dq: DataQualityReport | None) -> list[str]:
    """The run's score and every failed check (see steps/dq_results.py)."""
    if not dq:
        return []
    lines = [
        "## Data quality",
        "",
        f"score **{dq.score}** of 100 over {dq.checks} checks: {len(dq.failed_critical)} critical and "
        f"{len(dq.failed_warning)} warning checks failed (run `{dq.run_id}` in `{dq.table}`)",
        "",
    ]
    if failed := _failed(dq):
        lines += ["| severity | source | check | observed | threshold |", "|---|---|---|---:|---|"]
        lines += [
            f"| {c.severity} | {c.check_source} | {c.check_name} | {c.observed_value} | {c.threshold} |" for c in failed
        ]
        lines += [""]
    return lines
