"""The meter-data analyst's charts (VEE): how each meter-day was obtained, and the VEE exceptions per rule."""

from __future__ import annotations

from collections import Counter, defaultdict

import plotly.graph_objects as go

from orchestration.report.chart import Chart, empty, finish, grid, share
from orchestration.report.queries import day_text

MOST_METERS = 50  # a larger fleet shows the meters with the lowest measured share


def meter_data_quality(rows: list[dict]) -> Chart:
    key, title, model = "meter-data-quality", "Meter data quality per day", "rpt_meter_data_quality_daily"
    reads = ["marts.fct_meter_consumption_hourly_vee"]
    if not rows:
        return empty(key, title, model, reads, "meter hours")
    measured_hours: dict[str, int] = defaultdict(int)
    for row in rows:
        measured_hours[row["meter_id"]] += row["hours_measured"]
    shown = set(sorted(measured_hours, key=lambda meter: (measured_hours[meter], meter))[:MOST_METERS])
    cells = [{**row, "day": day_text(row["day"])} for row in rows if row["meter_id"] in shown]
    days, meters, z = grid(cells, "day", "meter_id", lambda row: row["measured_pct"])
    _, _, detail = grid(
        cells,
        "day",
        "meter_id",
        lambda row: [row["interpolated_pct"], row["like_day_pct"], row["questionable_pct"], row["missing_pct"]],
    )
    fig = go.Figure(
        go.Heatmap(
            x=days,
            y=meters,
            z=z,
            customdata=detail,
            zmin=0,
            zmax=100,
            colorscale="RdYlBu",
            colorbar={"title": {"text": "% measured"}},
            hovertemplate="%{y}, %{x}<br>measured %{z:.1f} %<br>interpolated %{customdata[0]:.1f} %"
            "<br>like-day %{customdata[1]:.1f} %<br>questionable %{customdata[2]:.1f} %"
            "<br>missing %{customdata[3]:.1f} %<extra></extra>",
            hoverongaps=False,
            xgap=1,
            ygap=1,
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(autorange="reversed")
    with_data = sum(24 - row["hours_missing"] for row in rows)
    estimated_days = sum(1 for row in rows if row["hours_measured"] < 24 - row["hours_missing"])
    missing_days = sum(1 for row in rows if row["hours_missing"] > 0)
    reading = (
        f"{share(sum(measured_hours.values()), with_data)} % of the meter-hours with energy were measured; of "
        f"{len(rows)} meter-days, {estimated_days} have estimated or questionable hours and {missing_days} "
        f"have hours without any energy row."
    )
    if len(measured_hours) > MOST_METERS:
        reading += f" Shown: the {MOST_METERS} of {len(measured_hours)} meters with the fewest measured hours."
    figure = finish(fig, height=max(260, 60 + 18 * len(meters)), x_title="day (UTC)")
    return Chart(key, title, model, reading, figure, reads)


def vee_exceptions(rows: list[dict]) -> Chart:
    key, title, model = "vee-exceptions", "VEE exceptions by rule per day", "rpt_vee_exceptions_daily"
    reads = ["audit.meter_vee_exceptions"]
    if not rows:
        return empty(key, title, model, reads, "VEE exceptions")
    fig = go.Figure()
    for rule in sorted({row["reason_code"] for row in rows}):
        days = [row for row in rows if row["reason_code"] == rule]
        fig.add_bar(
            x=[day_text(row["day"]) for row in days],
            y=[row["meters_failing"] for row in days],
            customdata=[row["exception_count"] for row in days],
            name=rule,
            hovertemplate=f"{rule}, %{{x}}<br>%{{y}} meter(s) failing, %{{customdata}} exception(s)<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    by_rule = Counter()
    for row in rows:
        by_rule[row["reason_code"]] += row["meters_failing"]
    (rule, count), total = by_rule.most_common(1)[0], sum(by_rule.values())
    reading = f"{total} meter-days failed a VEE rule; the most frequent rule is {rule} ({count} meter-days)."
    return Chart(key, title, model, reading, finish(fig, y_title="meters failing", x_title="day (UTC)"), reads)
