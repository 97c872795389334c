"""The report as one self-contained HTML file: plotly.js embedded once (from the plotly package, so nothing is
fetched when the file is built or opened), each chart's figure as JSON beside it, the key figures on top.

Each chart's data sits in `<script type="application/json" id="chart-data-<key>">` and the key figures in
`id="key-figures"`: what the page draws can be read back from the file without a browser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape

from orchestration.report.chart import CONFIG, Chart

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 24px 48px; color: #222; }
header { border-bottom: 2px solid #4575b4; margin-bottom: 16px; }
h1 { margin: 20px 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; } h3 { margin: 24px 0 2px; }
.meta, .source { color: #666; font-size: 0.85em; } .reading { margin: 2px 0 6px; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.figure .value { font-size: 1.4em; font-weight: 600; } .figure .name { color: #555; font-size: 0.85em; }
.no-data { background: #fff4e5; border: 1px solid #fdae61; border-radius: 6px; padding: 12px 16px; }
nav a { margin-right: 14px; }
"""
RENDER = """
document.querySelectorAll('script[data-chart]').forEach(function (node) {
  var figure = JSON.parse(node.textContent);
  Plotly.newPlot(node.dataset.chart, figure.data, figure.layout, CONFIG);
});
"""


def as_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, default=str, allow_nan=False).replace("</", "<\\/")


def figure_tiles(figures: list[dict]) -> str:
    tiles = []
    for item in figures[1:]:  # the first is the window, shown in the header
        value = "–" if item["value"] is None else f"{item['value']:,}"
        tiles.append(
            f'<div class="figure"><div class="value">{escape(value)} <small>{escape(item["unit"])}</small></div>'
            f'<div class="name">{escape(item["figure"])}</div></div>'
        )
    return '<div class="figures">' + "".join(tiles) + "</div>"


def chart_html(chart: Chart) -> str:
    source = f"from <code>reports.{chart.model}</code>, which reads " + ", ".join(
        f"<code>{escape(name)}</code>" for name in chart.reads
    )
    parts = [
        f'<h3 id="{chart.key}">{escape(chart.title)}</h3>',
        f'<p class="reading">{escape(chart.reading)}</p>',
    ]
    if chart.has_data:
        parts += [
            f'<div class="plot" id="plot-{chart.key}"></div>',
            f'<script type="application/json" id="chart-data-{chart.key}" data-chart="plot-{chart.key}">'
            f"{as_json(chart.figure)}</script>",
        ]
    parts.append(f'<p class="source">{source}</p>')
    return "\n".join(parts)


def render(
    sections: dict[str, list[Chart]], figures: list[dict], database: str, notice: str | None, plotly_js: str
) -> str:
    """The whole page. `notice` (e.g. "no data yet") is shown above everything; `sections` may be empty."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<header><h1>smartgrid grid report</h1>",
        f'<p class="meta">{escape(figures[0]["value"])} UTC (end exclusive) &middot; warehouse database '
        f"<code>{escape(database)}</code> &middot; generated {generated} by <code>smartgrid report</code></p>",
        "</header>",
    ]
    if notice:
        body.append(f'<p class="no-data">{escape(notice)}</p>')
    if sections:
        body.append(figure_tiles(figures))
        body.append("<nav>" + "".join(f'<a href="#{anchor(t)}">{escape(t)}</a>' for t in sections) + "</nav>")
    for title, charts in sections.items():
        body.append(f'<h2 id="{anchor(title)}">{escape(title)}</h2>')
        body += [chart_html(chart) for chart in charts]
    body.append(f'<script type="application/json" id="key-figures">{as_json(figures)}</script>')
    scripts = ""
    if any(chart.has_data for charts in sections.values() for chart in charts):
        scripts = f"<script>{plotly_js}</script>\n<script>var CONFIG = {as_json(CONFIG)};{RENDER}</script>"
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>smartgrid grid report {escape(figures[0]['value'])} UTC</title>\n<style>{STYLE}</style>\n"
        "</head>\n<body>\n" + "\n".join(body) + f"\n{scripts}\n</body>\n</html>\n"
    )


def anchor(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
