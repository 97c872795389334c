"""Power quality of the grid sensors: the hourly flag per sensor, voltage p95 and frequency against EN 50160."""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go

from orchestration.report.chart import QUESTIONABLE, Chart, band_traces, empty, finish, heat_map
from orchestration.report.queries import hour_text, local_text

SENSOR_MART = ["marts.fct_sensor_hourly"]
MOST_SENSORS = 50  # a larger grid shows the sensors with the most out-of-band hours
FLAG_COLOURS = [  # a discrete scale: 0 ok, 1 incomplete, 2 out of band
    [0, "#d1e5f0"],
    [1 / 3, "#d1e5f0"],
    [1 / 3, "#fdae61"],
    [2 / 3, "#fdae61"],
    [2 / 3, QUESTIONABLE],
    [1, QUESTIONABLE],
]


def power_quality_flags(rows: list[dict], zone: str = "UTC") -> Chart:
    key, title, model = "power-quality-flags", "Power quality per sensor and hour", "rpt_sensor_power_quality_hourly"
    if not rows:
        return empty(key, title, model, SENSOR_MART, "sensor hours")
    out_of_band = Counter(row["sensor_id"] for row in rows if row["pq_flag"] == "out_of_band")
    sensors = sorted({row["sensor_id"] for row in rows}, key=lambda sensor: (-out_of_band[sensor], sensor))
    shown = set(sensors[:MOST_SENSORS])
    cells = [{**row, "hour": local_text(row["hour_start"], zone)} for row in rows if row["sensor_id"] in shown]
    fig, sensors_shown = heat_map(
        cells,
        "hour",
        "sensor_id",
        lambda row: row["pq_level"],
        lambda row: [row["pq_flag"], row["out_of_band_measurements"] or "-", row["incomplete_measurements"] or "-",
                     hour_text(row["hour_start"])],  # fmt: skip
        zmin=0,
        zmax=2,
        colorscale=FLAG_COLOURS,
        colorbar={"tickvals": [0.33, 1, 1.67], "ticktext": ["ok", "incomplete", "out of band"]},
        hovertemplate="%{y}, %{x} (%{customdata[3]} UTC)<br>%{customdata[0]}<br>out of band: %{customdata[1]}"
        "<br>incomplete: %{customdata[2]}<extra></extra>",
        ygap=1,
    )
    fig.update_xaxes(type="category")  # the local wall clock: the hour that repeats in autumn is two labels
    flags = Counter(row["pq_flag"] for row in rows)
    reading = (
        f"Of {len(rows)} sensor-hours, {flags['out_of_band']} had a voltage or frequency reading outside its "
        f"EN 50160 band and {flags['incomplete']} were incomplete (too few readings); {flags['ok']} were ok."
    )
    if len(sensors) > MOST_SENSORS:
        reading += f" Shown: the {MOST_SENSORS} of {len(sensors)} sensors with the most out-of-band hours."
    figure = finish(fig, height=max(240, 80 + 22 * sensors_shown), x_title=f"hour ({zone})")
    return Chart(key, title, model, reading, figure, SENSOR_MART)


def voltage_p95(rows: list[dict], zone: str = "UTC") -> Chart:
    return _against_band(rows, "voltage", "V", "p95_value", zone)


def frequency(rows: list[dict], zone: str = "UTC") -> Chart:
    return _against_band(rows, "frequency", "Hz", "avg_value", zone)


def _against_band(rows: list[dict], sensor_type: str, unit: str, column: str, zone: str) -> Chart:
    """One line per sensor (voltage: the hourly p95; frequency: the hourly mean, whiskers to min and max)."""
    key, model = f"{sensor_type}-band", "rpt_power_quality_bands_hourly"
    title = "Voltage p95 against EN 50160" if sensor_type == "voltage" else "Frequency against EN 50160"
    rows = [row for row in rows if row["sensor_type"] == sensor_type]
    if not rows:
        return empty(key, title, model, SENSOR_MART, f"{sensor_type} readings")
    fig = go.Figure()
    for sensor in sorted({row["sensor_id"] for row in rows}):
        hours = [row for row in rows if row["sensor_id"] == sensor]
        whiskers = (
            {
                "type": "data",
                "symmetric": False,
                "array": [row["max_value"] - row["avg_value"] for row in hours],
                "arrayminus": [row["avg_value"] - row["min_value"] for row in hours],
                "thickness": 1,
                "width": 0,
            }
            if sensor_type == "frequency"
            else None
        )
        fig.add_scatter(
            x=[local_text(row["hour_start"], zone) for row in hours],
            y=[row[column] for row in hours],
            error_y=whiskers,
            customdata=[[row["min_value"], row["max_value"], row["count_outside_band"], hour_text(row["hour_start"])]
                        for row in hours],  # fmt: skip
            mode="lines+markers",
            marker={"size": 3},
            name=sensor,
            hovertemplate=f"{sensor}, %{{x}} (%{{customdata[3]}} UTC)"
            f"<br>{column.removesuffix('_value')}: %{{y:.3f}} {unit}"
            f"<br>min %{{customdata[0]}}, max %{{customdata[1]}}<br>readings outside the band: %{{customdata[2]}}"
            "<extra></extra>",
        )
    first = rows[0]
    hours = [local_text(hour, zone) for hour in sorted({row["hour_start"] for row in rows})]
    fig.add_traces(band_traces(hours, first["band_low"], first["band_high"], first["nominal_value"], unit))
    peak = max(rows, key=lambda row: row["max_value"] if sensor_type == "frequency" else row[column])
    low = min(rows, key=lambda row: row["min_value"])
    outside = sum(1 for row in rows if row["count_outside_band"])
    band = f"{first['band_low']:g}–{first['band_high']:g} {unit} around {first['nominal_value']:g} {unit}"
    if sensor_type == "voltage":
        seen = f"Highest hourly p95: {peak[column]:.1f} V ({peak['sensor_id']}, {local_text(peak['hour_start'], zone)})"
    else:
        seen = f"Frequency ranged from {low['min_value']:g} to {peak['max_value']:g} Hz"
    reading = f"{seen}; the band is {band}; {outside} sensor-hours had readings outside it."
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=hours)  # local wall clock, in time order
    figure = finish(fig, y_title=f"{sensor_type} ({unit})", x_title=f"hour ({zone})")
    return Chart(key, title, model, reading, figure, SENSOR_MART)
