"""The meter-data analyst's charts (VEE): how each meter-day was obtained, and the VEE exceptions per rule."""

from __future__ import annotations

from orchestration.report.chart import Chart, empty, finish, heat_map, share, stacked_daily_bars, sum_by
from orchestration.report.queries import day_text

MOST_METERS = 50  # a larger fleet shows the meters with the lowest measured share


def meter_data_quality(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "meter-data-quality", "Meter data quality per day", "rpt_meter_data_quality_daily"
    reads = ["marts.fct_meter_consumption_hourly_vee"]
    if not rows:
        return empty(key, title, model, reads, "meter hours")
    measured_hours = sum_by(rows, "meter_id", "hours_measured")
    shown = set(sorted(measured_hours, key=lambda meter: (measured_hours[meter], meter))[:MOST_METERS])
    cells = [{**row, "day": day_text(row["day"])} for row in rows if row["meter_id"] in shown]
    fig, meters_shown = heat_map(
        cells,
        "day",
        "meter_id",
        lambda row: row["measured_pct"],
        lambda row: [row["interpolated_pct"], row["like_day_pct"], row["questionable_pct"], row["missing_pct"],
                     row["hours_in_day"]],  # fmt: skip
        zmin=0,
        zmax=100,
        colorscale="RdYlBu",
        colorbar={"title": {"text": "% measured"}},
        hovertemplate="%{y}, %{x}<br>measured %{z:.1f} %<br>interpolated %{customdata[0]:.1f} %"
        "<br>like-day %{customdata[1]:.1f} %<br>questionable %{customdata[2]:.1f} %"
        "<br>missing %{customdata[3]:.1f} %<br>of %{customdata[4]} hours<extra></extra>",
        xgap=1,
        ygap=1,
    )
    fig.update_xaxes(type="category")
    with_data = sum(row["hours_in_day"] - row["hours_missing"] for row in rows)
    estimated_days = sum(1 for row in rows if row["hours_measured"] < row["hours_in_day"] - row["hours_missing"])
    missing_days = sum(1 for row in rows if row["hours_missing"] > 0)
    reading = (
        f"{share(sum(measured_hours.values()), with_data)} % of the meter-hours with energy were measured; of "
        f"{len(rows)} meter-days, {estimated_days} have estimated or questionable hours and {missing_days} "
        f"have hours without any energy row."
    )
    if len(measured_hours) > MOST_METERS:
        reading += f" Shown: the {MOST_METERS} of {len(measured_hours)} meters with the fewest measured hours."
    figure = finish(fig, height=max(260, 60 + 18 * meters_shown), x_title=f"day ({zone})")
    return Chart(key, title, model, reading, figure, reads)


def vee_exceptions(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "vee-exceptions", "VEE exceptions by rule per day", "rpt_vee_exceptions_daily"
    reads = ["audit.meter_vee_exceptions"]
    if not rows:
        return empty(key, title, model, reads, "VEE exceptions")
    fig = stacked_daily_bars(
        rows,
        lambda row: row["reason_code"],
        "meters_failing",
        "<br>%{y} meter(s) failing, %{customdata} exception(s)",
        customdata_key="exception_count",
    )
    by_rule = sum_by(rows, "reason_code", "meters_failing")
    (rule, count), total = by_rule.most_common(1)[0], sum(by_rule.values())
    reading = f"{total} meter-days failed a VEE rule; the most frequent rule is {rule} ({count} meter-days)."
    return Chart(key, title, model, reading, finish(fig, y_title="meters failing", x_title=f"day ({zone})"), reads)
