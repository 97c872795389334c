"""A run's result as the Markdown shown in its Prefect artifact."""

from __future__ import annotations


def summary_markdown(result: dict) -> str:
    window = result["window"]
    lines = [f"# smartgrid ELT: {window['start']} .. {window['end']}", ""]
    durations = []
    load = result.get("load")
    if load:
        lines += [
            "## Load",
            "",
            "| table | rows new to raw | source hours copied | rows in window |",
            "|---|---:|---:|---:|",
        ]
        for name, t in load["tables"].items():
            lines.append(f"| {name} | {t['rows_loaded']} | {t['hours_copied']} | {t['window_rows']} |")
        lines.append("")
        durations.append(("load", load["seconds"]))
    dbt = result.get("dbt")
    if dbt:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(dbt["status_counts"].items()))
        lines += ["## dbt build", "", f"{'succeeded' if dbt['success'] else 'FAILED'} ({counts})", ""]
        if dbt.get("rebuilt"):
            lines += ["| mart | rows rebuilt | hours (days) rebuilt |", "|---|---:|---:|"]
            for mart, n in dbt["rebuilt"].items():
                lines.append(f"| {mart} | {n['rows']} | {n.get('hours', n.get('days'))} |")
            lines.append("")
        rejected = dbt.get("rejected_in_this_load") or {}
        reasons = ", ".join(f"{reason} {n}" for reason, n in rejected.items()) or "none"
        lines += [f"Rows of this load rejected by the validity rules: {reasons}", ""]
        durations.append(("dbt build", dbt["seconds"]))
    checkpoint = result.get("checkpoint")
    if checkpoint:
        stats = checkpoint["statistics"]
        lines += [
            "## Great Expectations",
            "",
            f"{'passed' if checkpoint['success'] else 'FAILED'}: {stats['successful_expectations']} of "
            f"{stats['evaluated_expectations']} expectations met; rows validated: {checkpoint['rows_validated']}",
            "",
        ]
        failures = [f"- critical: {failure}" for failure in checkpoint["failed_expectations"]]
        failures += [f"- warning: {warning}" for warning in checkpoint.get("warnings", [])]
        lines += failures + ([""] if failures else [])
        durations.append(("checkpoint", checkpoint["seconds"]))
    elif "checkpoint" in result:
        lines += ["## Great Expectations", "", "skipped (enable_validation=false)", ""]
    lines += data_quality_markdown(result.get("data_quality"))
    if result.get("cleanup"):
        cleanup = result["cleanup"]
        lines += ["## Retention", "", f"raw rows before {cleanup['horizon']} deleted: {cleanup['rows_deleted']}", ""]
    if durations:
        lines += ["## Durations", "", "| step | seconds |", "|---|---:|"]
        lines += [f"| {step} | {seconds} |" for step, seconds in durations]
        lines.append("")
    if result.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in result["warnings"]]
    return "\n".join(lines) + "\n"


def data_quality_markdown(dq: dict | None) -> list[str]:
    """The run's score and every failed check (see orchestration/steps/dq_results.py)."""
    if not dq:
        return []
    failed = dq["failed_critical"] + dq["failed_warning"]
    lines = [
        "## Data quality",
        "",
        f"score **{dq['score']}** of 100 over {dq['checks']} checks: {len(dq['failed_critical'])} critical and "
        f"{len(dq['failed_warning'])} warning checks failed (run `{dq['run_id']}` in `{dq['table']}`)",
        "",
    ]
    if failed:
        lines += ["| severity | source | check | observed | threshold |", "|---|---|---|---:|---|"]
        lines += [
            f"| {c['severity']} | {c['check_source']} | {c['check_name']} | {c['observed_value']} | {c['threshold']} |"
            for c in failed
        ]
        lines += [""]
    return lines
