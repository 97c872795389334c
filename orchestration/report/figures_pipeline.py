"""The on-call data engineer's charts: data-quality score per run, failed checks, rejected rows, step durations."""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go

from orchestration.report.chart import Chart, empty, finish, middle, plural, share, stacked_daily_bars, sum_by
from orchestration.report.queries import hour_text, local_text

MOST_FAILED_CHECKS = 50
STEP_ORDER = {"load": 0, "dbt build": 1, "checkpoint": 2}  # the flow's order; other steps after them


def dq_scores(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "dq-scores", "Data-quality score per run", "rpt_dq_scores"
    reads = ["audit.dq_run_scores"]
    if not rows:
        return empty(key, title, model, reads, "runs with recorded checks")
    fig = go.Figure(
        go.Scatter(
            x=[local_text(row["checked_at"], zone, seconds=True) for row in rows],
            y=[row["run_score"] for row in rows],
            customdata=[
                [hour_text(row["window_start"]), hour_text(row["window_end"]), row["checks"]]
                + [row["failed_critical"], row["failed_warning"], hour_text(row["checked_at"])]
                for row in rows
            ],
            mode="lines+markers",
            name="score",
            hovertemplate="run at %{x} (%{customdata[5]} UTC): score %{y}<br>window %{customdata[0]} .. "
            "%{customdata[1]} UTC"
            "<br>%{customdata[2]} checks; failed: %{customdata[3]} critical, %{customdata[4]} warning<extra></extra>",
        )
    )
    fig.update_yaxes(range=[0, 101])
    fig.update_xaxes(type="category")
    latest, lowest = rows[-1], min(rows, key=lambda row: row["run_score"])
    reading = (
        f"{plural(len(rows), 'run')} recorded checks; the latest ({local_text(latest['checked_at'], zone)}) scored "
        f"{latest['run_score']:g}, the lowest {lowest['run_score']:g}."
    )
    return Chart(key, title, model, reading, finish(fig, y_title="score (0-100)", x_title=f"run ({zone})"), reads)


def failed_checks(rows: list[dict], runs: int, zone: str = "UTC") -> Chart:
    key, title, model = "failed-checks", "Failed checks", "rpt_failed_checks"
    reads = ["audit.dq_run_results"]
    if not rows:
        what = "failed checks" if runs else "runs with recorded checks"
        return empty(key, title, model, reads, what)
    shown = rows[:MOST_FAILED_CHECKS]
    columns = [
        [local_text(row["checked_at"], zone, seconds=True) for row in shown],
        [row["severity"] for row in shown],
        [row["check_name"] for row in shown],
        [row["observed_value"] for row in shown],
        [row["threshold"] or "" for row in shown],
    ]
    fig = go.Figure(
        go.Table(
            columnwidth=[110, 70, 420, 80, 200],
            header={"values": [f"run ({zone})", "severity", "check", "observed", "threshold"], "align": "left"},
            cells={"values": columns, "align": "left"},
        )
    )
    severities = Counter(row["severity"] for row in rows)
    reading = (
        f"{plural(len(rows), 'check')} failed in {len({row['run_id'] for row in rows})} of {plural(runs, 'run')} "
        f"({severities['critical']} critical, {severities['warning']} warning); newest first."
    )
    return Chart(key, title, model, reading, finish(fig, height=min(560, 90 + 44 * len(shown))), reads)


def rejected_readings(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "rejected-readings", "Rejected readings by reason per day", "rpt_rejected_readings_daily"
    reads = ["audit.rejected_readings"]
    if not rows:
        return empty(key, title, model, reads, "rejected readings")
    fig = stacked_daily_bars(
        rows, lambda row: f"{row['reason_code']} ({row['source_table']})", "rejected_rows", ": %{y} rows"
    )
    by_reason = sum_by(rows, "reason_code", "rejected_rows")
    (reason, count), total = by_reason.most_common(1)[0], sum(by_reason.values())
    reading = f"{total:,} readings were rejected; the most frequent reason is {reason} ({count:,})."
    return Chart(key, title, model, reading, finish(fig, y_title="rejected readings", x_title=f"day ({zone})"), reads)


def step_durations(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "step-durations", "Run durations per step", "rpt_run_step_durations"
    reads = ["audit.run_steps"]
    if not rows:
        return empty(key, title, model, reads, "runs with recorded step times")
    runs = sorted({(row["recorded_at"], row["run_id"]) for row in rows})
    label = {run_id: local_text(at, zone, seconds=True) for at, run_id in runs}
    utc = {run_id: hour_text(at) for at, run_id in runs}
    fig = go.Figure()
    for step in sorted({row["step"] for row in rows}, key=lambda step: (STEP_ORDER.get(step, 9), step)):
        steps = [row for row in rows if row["step"] == step]
        fig.add_bar(
            x=[label[row["run_id"]] for row in steps],
            y=[row["seconds"] for row in steps],
            name=step,
            customdata=[utc[row["run_id"]] for row in steps],
            hovertemplate=f"run at %{{x}} (%{{customdata}} UTC)<br>{step}: %{{y:.2f}} s<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    per_run = sum_by(rows, "run_id", "seconds")
    per_step = sum_by(rows, "step", "seconds")
    slowest = max(per_step, key=per_step.get)
    reading = (
        f"{plural(len(per_run), 'run')}: {middle(list(per_run.values())):.1f} s in the median, at most "
        f"{max(per_run.values()):.1f} s; {slowest} takes {share(per_step[slowest], sum(per_step.values()))} % "
        f"of the time."
    )
    return Chart(key, title, model, reading, finish(fig, y_title="seconds", x_title=f"run ({zone})"), reads)
