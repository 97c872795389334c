"""The dbt docs site in a real browser: `make docs`, served as `make docs-serve` serves it, opened in headless
Chromium. The lineage graph must draw both source tables, the three marts and their consumers, connected, and
the page must not fetch anything from outside the local server (no CDN: it works offline).

Skips when Chromium is not installed (apt-get install chromium; CI installs it).
"""

from __future__ import annotations

import pytest

from orchestration.local import docs_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not docs_site.CHROMIUM.exists(),
        reason=f"no Chromium at {docs_site.CHROMIUM}: apt-get install chromium to run the docs browser check",
    ),
]

# the lineage a reader must be able to follow, hand-listed: source -> staging -> intermediate -> marts
PATHS = [
    ["ops.sensor_data", "stg_ops__sensor_readings", "int_sensor_readings_validated", "fct_sensor_hourly"],
    [
        "ops.meter_readings",
        "stg_ops__meter_readings",
        "int_meter_readings_validated",
        "int_meter_intervals",
        "int_meter_interval_hours",
        "fct_meter_consumption_hourly",
        "fct_customer_consumption_daily",
    ],
    # which mart feeds which chart of the grid report: mart -> the chart's view (models/reports) -> the report
    ["fct_sensor_hourly", "rpt_sensor_power_quality_hourly", "Grid report (smartgrid report)"],
]
EXPOSURE_LABELS = {
    "Great Expectations checkpoint run_window",
    "Hourly smartgrid ELT deployment",
    "Daily customer consumption report",
    "Grid report (smartgrid report)",
}


@pytest.fixture(scope="module")
def site(settings, warehouse):
    assert docs_site.generate(settings) == 0
    return settings.dbt_project_dir / "target"


def drawn_edges(graph: dict) -> set[tuple[str, str]]:
    label = {node["id"]: node["label"] for node in graph["nodes"]}
    return {(label[source], label[target]) for source, target in graph["edges"]}


def test_served_lineage_page_draws_both_sources_through_to_the_three_marts(site, tmp_path):
    port = docs_site.free_port()
    server = docs_site.serve(port)
    try:
        seen = docs_site.render_lineage(f"http://127.0.0.1:{port}/{docs_site.LINEAGE_PAGE}", tmp_path / "lineage.png")
    finally:
        server.terminate()
        server.wait()

    graph = seen["graph"]
    assert graph is not None, "the lineage graph did not render"
    visible = {node["label"] for node in graph["nodes"] if node["visible"]}
    assert {*docs_site.SOURCES, *docs_site.MARTS} | EXPOSURE_LABELS <= visible
    edges = drawn_edges(graph)
    for path in PATHS:
        assert set(zip(path, path[1:], strict=False)) <= edges, path
    assert (tmp_path / "lineage.png").stat().st_size > 10_000  # a real picture, for people to look at

    # everything came from the local server: the page itself and the manifest and catalog it reads
    requested = seen["requested"]
    assert f"http://127.0.0.1:{port}/manifest.json" in {url.split("?")[0] for url in requested}
    assert [url for url in requested if not docs_site.is_local(url, port)] == []


def test_static_page_draws_the_lineage_from_a_file_without_any_server(site):
    seen = docs_site.render_lineage((site / "static_index.html").as_uri() + docs_site.LINEAGE_PAGE)

    visible = {node["label"] for node in (seen["graph"] or {}).get("nodes", []) if node["visible"]}
    assert {*docs_site.SOURCES, *docs_site.MARTS} <= visible
    assert [url for url in seen["requested"] if not url.startswith(("file://", "data:"))] == []
