"""The network: transformers by peak loading, loading per transformer and local hour, and a map drawn from the
transformers' and sensors' latitude/longitude (no tiles, nothing fetched: the page stays offline)."""

from __future__ import annotations

import plotly.graph_objects as go

from orchestration.report.chart import QUESTIONABLE, Chart, empty, finish, heat_map, kwh, plural, share
from orchestration.report.queries import local_text, local_time

NETWORK_MARTS = ["marts.fct_transformer_loading_hourly", "marts.dim_transformers"]
MOST_TRANSFORMERS = 20  # the bar chart and the heat map show the hottest ones
LOADING_COLOURS = [[0, "#4575b4"], [0.5, "#ffffbf"], [0.75, "#fdae61"], [1, QUESTIONABLE]]  # 0..150 %: 100 % at 2/3
PQ_COLOURS = {"ok": "#4575b4", "incomplete": "#fdae61", "out_of_band": QUESTIONABLE}


def peaks(rows: list[dict]) -> list[dict]:
    """Each rated transformer's hour of highest loading in the window, hottest first (ties: the earlier hour)."""
    best: dict[str, dict] = {}
    for row in rows:
        if row["loading_pct"] is None or row["transformer_id"] == "unconnected":
            continue
        kept = best.get(row["transformer_id"])
        if kept is None or row["loading_pct"] > kept["loading_pct"]:
            best[row["transformer_id"]] = row
    return sorted(best.values(), key=lambda row: (-row["loading_pct"], row["transformer_id"]))


def _overloaded_hours(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        if row["is_overloaded"]:
            counts[row["transformer_id"]] = counts.get(row["transformer_id"], 0) + 1
    return counts


def peak_loading(rows: list[dict]) -> Chart:
    key, title, model = "transformer-peaks", "Transformers by peak loading", "rpt_transformer_loading_hourly"
    hottest = peaks(rows)
    if not hottest:
        return empty(key, title, model, NETWORK_MARTS, "transformer hours with a rating")
    over = _overloaded_hours(rows)
    shown = hottest[:MOST_TRANSFORMERS][::-1]  # the hottest on top
    fig = go.Figure(
        go.Bar(
            x=[row["loading_pct"] for row in shown],
            y=[row["transformer_id"] for row in shown],
            orientation="h",
            marker={"color": [QUESTIONABLE if row["is_overloaded"] else "#4575b4" for row in shown]},
            customdata=[
                [
                    local_text(row["hour_start"], row["time_zone"]),
                    row["avg_kw"],
                    row["rated_kva"],
                    row["feeder_id"],
                    over.get(row["transformer_id"], 0),
                ]
                for row in shown
            ],  # fmt: skip
            hovertemplate="%{y} (feeder %{customdata[3]}): %{x:.1f} % at %{customdata[0]}<br>"
            "%{customdata[1]:.1f} kW on %{customdata[2]} kVA; hours over the limit: %{customdata[4]}<extra></extra>",
        )
    )
    top = hottest[0]
    unconnected = sum(row["energy_kwh"] for row in rows if row["transformer_id"] == "unconnected")
    total = sum(row["energy_kwh"] for row in rows)
    reading = (
        f"{len(over)} of {plural(len(hottest), 'rated transformer')} ran above the limit in at least one hour "
        f"({plural(sum(over.values()), 'transformer-hour')}); the hottest, {top['transformer_id']}, peaked at "
        f"{top['loading_pct']:.2f} % ({top['avg_kw']:.1f} kW on {top['rated_kva']:g} kVA) at "
        f"{local_text(top['hour_start'], top['time_zone'])}. Unconnected meters used {kwh(unconnected)} "
        f"({share(unconnected, total)} % of the fleet)."
    )
    figure = finish(fig, height=max(240, 80 + 22 * len(shown)), x_title="peak loading (% of rating)")
    return Chart(key, title, model, reading, figure, NETWORK_MARTS)


def loading_heat_map(rows: list[dict]) -> Chart:
    key, title, model = "transformer-hours", "Transformer loading per hour", "rpt_transformer_loading_hourly"
    hottest = peaks(rows)
    if not hottest:
        return empty(key, title, model, NETWORK_MARTS, "transformer hours with a rating")
    order = {row["transformer_id"]: i for i, row in enumerate(hottest[:MOST_TRANSFORMERS])}
    cells = [row for row in rows if row["transformer_id"] in order]
    cells.sort(key=lambda row: order[row["transformer_id"]])
    fig, shown = heat_map(  # hours as local_text: the autumn hour that repeats gets two columns (CEST, CET)
        [
            {**row, "hour": local_text(row["hour_start"], row["time_zone"]),
             "label": f"{order[row['transformer_id']]:03d} {row['transformer_id']}"}
            for row in cells
        ],  # fmt: skip
        "hour",
        "label",
        lambda row: row["loading_pct"],
        lambda row: [row["avg_kw"], row["rated_kva"], row["meter_count"]],
        zmin=0,
        zmax=150,
        colorscale=LOADING_COLOURS,
        colorbar={"title": {"text": "% of rating"}},
        hovertemplate="%{y}, %{x}<br>%{z:.1f} %: %{customdata[0]:.1f} kW on %{customdata[1]} kVA"
        "<br>meters: %{customdata[2]}<extra></extra>",
        ygap=1,
    )
    fig.update_yaxes(tickvals=[f"{i:03d} {t}" for t, i in order.items()], ticktext=list(order))
    over = [row for row in cells if row["is_overloaded"]]
    hours = sorted({local_time(row["hour_start"], row["time_zone"]).strftime("%H") for row in over})
    reading = (
        f"The {shown} hottest transformers, hour by hour on the local clock ({rows[0]['time_zone']}); they ran "
        f"above their limit at the local hours {', '.join(hours) or 'none'}."
    )
    figure = finish(fig, height=max(240, 80 + 22 * shown), x_title=f"hour ({rows[0]['time_zone']})")
    return Chart(key, title, model, reading, figure, NETWORK_MARTS)


def network_map(rows: list[dict], sensor_sites: list[dict], sensor_hours: list[dict]) -> Chart:
    key, title, model = "network-map", "Network map", "rpt_transformer_loading_hourly"
    placed = [row for row in peaks(rows) if row["latitude"] is not None]
    worst: dict[str, int] = {}
    for row in sensor_hours:
        worst[row["sensor_id"]] = max(worst.get(row["sensor_id"], 0), row["pq_level"])
    sites = [site for site in sensor_sites if site["sensor_id"] in worst]
    if not placed and not sites:
        return empty(key, title, model, NETWORK_MARTS, "transformers or sensors with a location")
    fig = go.Figure()
    fig.add_scatter(
        x=[row["longitude"] for row in placed],
        y=[row["latitude"] for row in placed],
        mode="markers",
        name="transformer (peak loading)",
        marker={"size": 9, "color": [row["loading_pct"] for row in placed], "cmin": 0, "cmax": 150,
                "colorscale": LOADING_COLOURS, "colorbar": {"title": {"text": "peak %"}}, "symbol": "square"},
        text=[row["transformer_id"] for row in placed],
        hovertemplate="%{text}: peak %{marker.color:.1f} %<extra></extra>",
    )  # fmt: skip
    flags = ["ok", "incomplete", "out_of_band"]
    for level, flag in enumerate(flags):
        chosen = [site for site in sites if worst[site["sensor_id"]] == level]
        if chosen:
            fig.add_scatter(
                x=[site["longitude"] for site in chosen],
                y=[site["latitude"] for site in chosen],
                mode="markers",
                name=f"sensor: {flag.replace('_', ' ')}",
                marker={"size": 11, "color": PQ_COLOURS[flag], "symbol": "triangle-up", "line": {"width": 1}},
                text=[site["sensor_id"] for site in chosen],
                hovertemplate=f"%{{text}}: worst power-quality flag {flag}<extra></extra>",
            )
    fig.update_yaxes(scaleanchor="x", scaleratio=1.35)  # about 1 / cos(42 degrees): a degree east is shorter
    hot = sum(1 for row in placed if row["is_overloaded"])
    bad = sum(1 for site in sites if worst[site["sensor_id"]] == 2)
    reading = (
        f"{plural(len(placed), 'transformer')} by peak loading ({hot} above the limit) and "
        f"{plural(len(sites), 'sensor')} by their worst power-quality flag of the window ({bad} out of band), "
        "at their latitude and longitude."
    )
    figure = finish(fig, height=480, x_title="longitude", y_title="latitude")
    return Chart(key, title, model, reading, figure, [*NETWORK_MARTS, "marts.fct_sensor_hourly"])
