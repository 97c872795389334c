"""The load planner's charts: fleet energy per hour, daily energy per customer, the average daily load shape."""

from __future__ import annotations

from collections import defaultdict

import plotly.graph_objects as go

from orchestration.report.chart import (
    INTERPOLATED,
    LIKE_DAY,
    MEASURED,
    QUESTIONABLE,
    Chart,
    empty,
    finish,
    kwh,
    share,
    sum_by,
)
from orchestration.report.queries import day_text, hour_text, local_text

VEE_MART = ["marts.fct_meter_consumption_hourly_vee"]
ENERGY_PARTS = [  # trace name, column, colour
    ("measured", "measured_kwh", MEASURED),
    ("interpolated", "interpolated_kwh", INTERPOLATED),
    ("like-day estimate", "like_day_kwh", LIKE_DAY),
    ("unestimated gap", "unestimated_gap_kwh", QUESTIONABLE),
]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def fleet_energy(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "fleet-energy", "Fleet energy per hour", "rpt_fleet_energy_hourly"
    if not rows:
        return empty(key, title, model, VEE_MART, "meter energy")
    x = [local_text(row["hour_start"], zone) for row in rows]
    utc = [hour_text(row["hour_start"]) for row in rows]
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=[row[column] for row in rows],
                name=name,
                marker_color=colour,
                customdata=utc,
                hovertemplate=f"%{{x}} (%{{customdata}} UTC)<br>{name}: %{{y:.2f}} kWh<extra></extra>",
            )
            for name, column, colour in ENERGY_PARTS
        ]
    )
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(type="category")  # local wall clock: the autumn hour that repeats is two labels (CEST, CET)
    total = sum(row["vee_kwh"] for row in rows)
    estimated = total - sum(row["measured_kwh"] for row in rows)
    peak = max(rows, key=lambda row: row["vee_kwh"])
    reading = (
        f"The fleet used {kwh(total)} in {len(rows)} hours, {share(estimated, total)} % of it estimated; "
        f"the peak hour was {local_text(peak['hour_start'], zone)} ({hour_text(peak['hour_start'])} UTC) with "
        f"{kwh(peak['vee_kwh'])}."
    )
    figure = finish(fig, y_title="kWh per hour", x_title=f"hour ({zone})")
    return Chart(key, title, model, reading, figure, VEE_MART)


def customer_energy(rows: list[dict], zone: str = "UTC", top: int = 10) -> Chart:
    key, title, model = "customer-energy", f"Daily energy per customer (top {top})", "rpt_customer_energy_daily"
    reads = ["marts.fct_customer_consumption_daily_local"]
    if not rows:
        return empty(key, title, model, reads, "customer energy")
    totals = sum_by(rows, "customer_id", "consumption_kwh")
    ranked = sorted(totals, key=lambda customer: (-totals[customer], customer))[:top]
    fig = go.Figure()
    for customer in ranked:
        days = [row for row in rows if row["customer_id"] == customer]
        fig.add_bar(
            x=[day_text(row["day"]) for row in days],
            y=[row["consumption_kwh"] for row in days],
            customdata=[[row["estimated_kwh"], row["meter_count"], row["hours_in_day"]] for row in days],
            name=customer,
            hovertemplate=f"{customer}, %{{x}} ({zone}, %{{customdata[2]}} h)<br>%{{y:.2f}} kWh, of it estimated "
            "%{customdata[0]:.2f} kWh<br>meters: %{customdata[1]}<extra></extra>",
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    reading = (
        f"The {len(ranked)} customers with the most energy of {len(totals)}; {ranked[0]} used the most, "
        f"{kwh(totals[ranked[0]])} in the window."
    )
    return Chart(key, title, model, reading, finish(fig, y_title="kWh per day", x_title=f"day ({zone})"), reads)


def load_shape(rows: list[dict]) -> Chart:
    key, title, model = "load-shape", "Average daily load shape", "rpt_fleet_energy_hourly"
    if not rows:
        return empty(key, title, model, VEE_MART, "meter energy")
    time_zone = rows[0]["time_zone"]
    hours_seen: dict[tuple[int, int], list[float]] = defaultdict(list)
    for row in rows:
        hours_seen[(row["local_weekday"], row["local_hour"])].append(row["vee_kwh"])
    average = {cell: sum(values) / len(values) for cell, values in hours_seen.items()}
    z = [[average.get((weekday, hour)) for hour in range(24)] for weekday in range(1, 8)]
    days = [[len(hours_seen.get((weekday, hour), [])) for hour in range(24)] for weekday in range(1, 8)]
    fig = go.Figure(
        go.Heatmap(
            x=list(range(24)),
            y=WEEKDAYS,
            z=z,
            customdata=days,
            colorscale="YlOrRd",
            colorbar={"title": {"text": "kWh"}},
            hovertemplate="%{y} %{x}:00<br>%{z:.2f} kWh on average over %{customdata} day(s)<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(dtick=2)
    high, low = max(average, key=average.get), min(average, key=average.get)
    reading = (
        f"Highest average hour: {WEEKDAYS[high[0] - 1]} {high[1]:02d}:00 with {kwh(average[high])}; "
        f"lowest: {WEEKDAYS[low[0] - 1]} {low[1]:02d}:00 with {kwh(average[low])} ({time_zone})."
    )
    figure = finish(fig, height=300, x_title=f"hour of day ({time_zone})")
    return Chart(key, title, model, reading, figure, VEE_MART)
