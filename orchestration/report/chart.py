"""What every chart of the report is: a title, a one-line reading of the data, the view it came from, and a
Plotly figure (as the JSON the page hands to plotly.js), or no figure when the window has no rows for it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import median

import plotly.graph_objects as go

from orchestration.report.queries import day_text

# Colour-blind-safe roles used across the report (ColorBrewer RdYlBu / Okabe-Ito tones).
MEASURED, INTERPOLATED, LIKE_DAY, QUESTIONABLE = "#4575b4", "#91bfdb", "#fdae61", "#d73027"
BAND = "#7f7f7f"
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


@dataclass
class Chart:
    key: str  # the chart's id in the page
    title: str
    model: str  # the dbt view (models/reports) whose rows it draws
    reading: str  # one line: what the chart shows for this window
    figure: dict | None = None  # Plotly's JSON (data, layout); None when the window has no rows
    reads: list[str] = field(default_factory=list)  # the marts and audit tables behind the view

    @property
    def has_data(self) -> bool:
        return self.figure is not None


def empty(key: str, title: str, model: str, reads: list[str], what: str = "rows") -> Chart:
    return Chart(key, title, model, f"No {what} in this window.", None, reads)


def finish(fig: go.Figure, *, height: int = 340, y_title: str | None = None, x_title: str | None = None) -> dict:
    """The report's common look, then the figure as plain JSON-able data."""
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 20, "t": 40, "b": 50},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "traceorder": "normal"},
        hoverlabel={"namelength": -1},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    if y_title:
        fig.update_yaxes(title_text=y_title)
    if x_title:
        fig.update_xaxes(title_text=x_title)
    return fig.to_plotly_json()


def band_traces(x: list, low: float, high: float, nominal: float, unit: str) -> list[go.Scatter]:
    """The EN 50160 band as three flat lines across `x`: lower bound, nominal, upper bound."""
    first_last = [x[0], x[-1]]
    return [
        go.Scatter(
            x=first_last,
            y=[value, value],
            mode="lines",
            name=f"{label} {value:g} {unit}",
            line={"color": BAND, "dash": "dot" if label == "nominal" else "dash", "width": 1},
            hovertemplate=f"{label}: {value:g} {unit}<extra></extra>",
        )
        for label, value in (("lower bound", low), ("nominal", nominal), ("upper bound", high))
    ]


def grid(rows: list[dict], x_key: str, y_key: str, value) -> tuple[list, list, list[list]]:
    """Rows as a heat map: sorted x and y labels and z[y][x] = value(row), None where no row."""
    xs = sorted({row[x_key] for row in rows})
    ys = sorted({row[y_key] for row in rows})
    column, line = {x: i for i, x in enumerate(xs)}, {y: i for i, y in enumerate(ys)}
    z: list[list] = [[None] * len(xs) for _ in ys]
    for row in rows:
        z[line[row[y_key]]][column[row[x_key]]] = value(row)
    return xs, ys, z


def heat_map(cells: list[dict], x_key: str, y_key: str, value, detail, **style) -> tuple[go.Figure, int]:
    """`cells` as a heat map, the first y label on top: value(row) colours a cell, detail(row) is its hover's
    customdata; `style` is the rest of the go.Heatmap. Returns the figure and its number of y labels."""
    xs, ys, z = grid(cells, x_key, y_key, value)
    _, _, customdata = grid(cells, x_key, y_key, detail)
    fig = go.Figure(go.Heatmap(x=xs, y=ys, z=z, customdata=customdata, hoverongaps=False, **style))
    fig.update_yaxes(autorange="reversed")
    return fig, len(ys)


def stacked_daily_bars(
    rows: list[dict], series, y_key: str, hover: str, customdata_key: str | None = None
) -> go.Figure:
    """One bar trace per series(row), in name order, stacked per day (a category axis). A bar's hover text is
    "<series>, <day>" followed by `hover` (a Plotly hovertemplate)."""
    fig = go.Figure()
    for name in sorted({series(row) for row in rows}):
        days = [row for row in rows if series(row) == name]
        fig.add_bar(
            x=[day_text(row["day"]) for row in days],
            y=[row[y_key] for row in days],
            customdata=None if customdata_key is None else [row[customdata_key] for row in days],
            name=name,
            hovertemplate=f"{name}, %{{x}}{hover}<extra></extra>",
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    return fig


def sum_by(rows: list[dict], key: str, value: str) -> Counter:
    """The sum of row[value] per row[key]."""
    sums: Counter = Counter()
    for row in rows:
        sums[row[key]] += row[value]
    return sums


def share(part: float, whole: float) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def kwh(value: float) -> str:
    return f"{value:,.1f} kWh"


def middle(values: list[float]) -> float:
    return median(values) if values else 0.0
