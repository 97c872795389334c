"""The grid report (`smartgrid report`) built from the hand-worked warehouse (tests/report_dataset.py): the
numbers its charts draw, read back from the data embedded in the HTML file (never from pixels), and the page in
headless Chromium (every chart drawn, hover shows the value, no console error, no request beyond the file).

Every expected number is worked out in the comments and in tests/report_dataset.py.
"""

from __future__ import annotations

import pytest

from orchestration.local import docs_site
from orchestration.report.browser import offsite, open_report
from tests.report_dataset import embedded, figures, traces

pytestmark = pytest.mark.slow
needs_chromium = pytest.mark.skipif(
    not docs_site.CHROMIUM.exists(), reason=f"no Chromium at {docs_site.CHROMIUM}: apt-get install chromium"
)


def test_key_figures(report):
    result, html = report
    assert result.charts_drawn == result.charts == 15
    assert figures(html) == {
        "window": ("2026-03-10 00:00 .. 2026-03-11 00:00", "UTC"),
        "fleet energy": (8.0, "kWh"),  # M1 4 + 2, M2 2
        "estimated share of fleet energy": (25.0, "%"),  # M1's interpolated 2 of 8
        "peak fleet hour (2026-03-10 00:00 UTC)": (6.0, "kWh"),  # hour 00: 4 + 2
        "meters with energy": (2, ""),
        "meter-hours measured": (66.7, "%"),  # M1 00 and M2 00 of M1 00, M1 01, M2 00: 2 / 3
        "VEE exceptions (meter-days)": (1, ""),  # M1's gap (below)
        "sensor-hours out of band": (2, "of 3"),  # S1 00 and S2 01; S2 00 is ok
        "readings rejected": (2, ""),  # M2's earlier 00:15 copy, S1's NaN
        "runs with recorded checks": (2, ""),  # run-a and run-b; run-old's window is two days earlier
        "latest data-quality score": (100.0, "of 100"),
        "failed checks": (1, ""),
    }


def test_load_charts(report):
    _, html = report
    fleet = traces(html, "fleet-energy")
    hours = ["2026-03-10 01:00 CET", "2026-03-10 02:00 CET"]  # UTC 00:00 and 01:00 on Berlin's wall clock (UTC+1)
    assert fleet["measured"]["customdata"] == ["2026-03-10 00:00", "2026-03-10 01:00"]  # UTC, in the hover
    assert {name: (t["x"], t["y"]) for name, t in fleet.items()} == {
        "measured": (hours, [6.0, 0.0]),
        "interpolated": (hours, [0.0, 2.0]),
        "like-day estimate": (hours, [0.0, 0.0]),
        "unestimated gap": (hours, [0.0, 0.0]),
    }
    customers = traces(html, "customer-energy")
    assert list(customers) == ["C1", "C2"]  # the most energy first
    # local days: both hours (01:00 and 02:00 CET) are in Berlin's 2026-03-10, a day of 24 hours
    assert customers["C1"]["x"] == customers["C2"]["x"] == ["2026-03-10"]
    assert (customers["C1"]["y"], customers["C1"]["customdata"]) == ([6.0], [[2.0, 1, 24]])  # 6 kWh, 2 estimated
    assert (customers["C2"]["y"], customers["C2"]["customdata"]) == ([2.0], [[0.0, 1, 24]])
    # UTC 00:00 and 01:00 on a Tuesday are 01:00 and 02:00 in Berlin: one day each, 6 and 2 kWh
    shape = embedded(html, "chart-data-load-shape")["data"][0]
    cells = {(y, x): z for y, row in zip(shape["y"], shape["z"], strict=True) for x, z in enumerate(row) if z}
    assert cells == {("Tue", 1): 6.0, ("Tue", 2): 2.0}


def test_meter_data_quality_charts(report):
    _, html = report
    quality = embedded(html, "chart-data-meter-data-quality")["data"][0]
    assert (quality["x"], quality["y"]) == (["2026-03-10"], ["M1", "M2"])
    # The window is 2026-03-10 00:00 .. 03-11 00:00 UTC = 01:00 .. 01:00 CET: 23 hours of Berlin's 03-10 lie in it.
    # M1: hour 01:00 CET measured, 02:00 interpolated, 21 without a row: 1/23 = 4.3 %, 4.3 %, 21/23 = 91.3 %
    # M2: 01:00 CET measured, 22 hours without a row: 4.3 % measured, 22/23 = 95.7 % missing
    assert quality["z"] == [[4.3], [4.3]]
    assert quality["customdata"] == [[[4.3, 0.0, 0.0, 91.3, 23]], [[0.0, 0.0, 0.0, 95.7, 23]]]
    # M1 reads 00:00 .. 02:00: 9 quarter-hours expected, 6 found: one meter fails `gap`, with 3 missing
    assert {name: (t["x"], t["y"], t["customdata"]) for name, t in traces(html, "vee-exceptions").items()} == {
        "gap": (["2026-03-10"], [1], [3])
    }


def test_power_quality_charts(report):
    _, html = report
    flags = embedded(html, "chart-data-power-quality-flags")["data"][0]
    assert flags["y"] == ["S1", "S2"]
    assert flags["z"] == [[2, None], [0, 2]]  # 2 out of band, 0 ok; S1 has no row in hour 01
    assert flags["x"] == ["2026-03-10 01:00 CET", "2026-03-10 02:00 CET"]  # Berlin's wall clock; UTC in the hover
    assert flags["customdata"][0][0] == ["out_of_band", "voltage", "frequency", "2026-03-10 00:00"]
    voltage = traces(html, "voltage-band")
    # p95 of 230, 231, 260: rank 0.95 x 2 = 1.9, 231 + 0.9 x 29 = 257.1; band 230 V +- 10 %
    assert voltage["S1"]["y"] == [pytest.approx(257.1)]
    bands = {name: t["y"][0] for name, t in voltage.items() if name != "S1"}
    assert bands == {"lower bound 207 V": 207, "nominal 230 V": 230, "upper bound 253 V": 253}
    frequency = traces(html, "frequency-band")
    # S1: mean of 50.0 and 50.1, whiskers down to 50.0 and up to 50.1; band 50 Hz +- 1 %
    assert frequency["S1"]["y"] == [pytest.approx(50.05)]
    assert frequency["S1"]["error_y"]["array"] == [pytest.approx(0.05)]
    assert frequency["S1"]["error_y"]["arrayminus"] == [pytest.approx(0.05)]
    assert frequency["S2"]["y"] == [50.0, 49.0]
    assert {name: t["y"][0] for name, t in frequency.items() if name.endswith("Hz")} == {
        "lower bound 49.5 Hz": 49.5,
        "nominal 50 Hz": 50,
        "upper bound 50.5 Hz": 50.5,
    }


def test_network_charts(report):
    _, html = report
    # T1 (3 kVA: 2.85 kW) carries M1: hour 00 4 kWh, 400 / 2.85 = 140.35 %; hour 01 2 kWh, 70.18 %. Hours on the
    # local clock: Europe/Berlin is UTC+1, so 01:00 and 02:00. M2 (2 kWh in hour 00) is unconnected: 2 of the
    # fleet's 8 kWh = 25.0 %.
    (peak,) = traces(html, "transformer-peaks").values()
    assert (peak["y"], peak["x"], peak["customdata"][0][0]) == (["T1"], [140.35], "2026-03-10 01:00 CET")
    (cells,) = traces(html, "transformer-hours").values()
    assert (cells["x"], cells["z"]) == (["2026-03-10 01:00 CET", "2026-03-10 02:00 CET"], [[140.35, 70.18]])
    assert "they ran above their limit at the local hours 01." in html  # only 01:00 CET is over 100 %
    assert (
        "1 of 1 rated transformer ran above the limit in at least one hour (1 transformer-hour); the hottest, T1, "
        "peaked at 140.35 % (4.0 kW on 3 kVA) at 2026-03-10 01:00 CET. Unconnected meters used 2.0 kWh "
        "(25.0 % of the fleet)." in html
    )
    # the map: T1 at its location coloured by its peak, S2 (its worst hour, 01, out of band) at its location
    sites = traces(html, "network-map")
    assert (sites["transformer (peak loading)"]["x"], sites["transformer (peak loading)"]["y"]) == ([21.16], [42.65])
    assert sites["transformer (peak loading)"]["marker"]["color"] == [140.35]
    assert (sites["sensor: out of band"]["text"], sites["sensor: out of band"]["x"]) == (["S2"], [21.17])


def test_pipeline_health_charts(report):
    _, html = report
    assert traces(html, "dq-scores")["score"]["y"] == [75.0, 100.0]  # run-a, then run-b
    failed = embedded(html, "chart-data-failed-checks")["data"][0]["cells"]["values"]
    assert [column[0] for column in failed[1:]] == ["warning", "raw: grid", 40.0, "mostly=0.99"]
    rejected = traces(html, "rejected-readings")
    assert {name: t["y"] for name, t in rejected.items()} == {
        "duplicate (meter_readings)": [1],
        "not_a_number (sensor_data)": [1],
    }
    steps = traces(html, "step-durations")
    assert {name: t["y"] for name, t in steps.items()} == {
        "load": [1.5, 0.5],
        "dbt build": [10.25, 8.0],
        "checkpoint": [3.0],
    }
    # each chart names the view it came from; the readings are the numbers above in words
    assert "reports.rpt_run_step_durations" in html and "reports.rpt_fleet_energy_hourly" in html
    assert "2 runs: 11.6 s in the median, at most 14.8 s" in html  # (14.75 + 8.5) / 2 = 11.625
    assert "The fleet used 8.0 kWh in 2 hours, 25.0 % of it estimated" in html


@needs_chromium
def test_the_report_opens_offline_in_chromium_and_hover_shows_the_value(report, tmp_path):
    result, _ = report
    seen = open_report(result.path, screenshot=tmp_path / "report.png")
    page = seen["value"]
    assert page is not None and len(page["plots"]) == 15
    assert page["drawn"] == page["plots"]  # plotly.js drew every chart
    assert page["hover"]["chart"] == "plot-fleet-energy" and "measured: 6.00 kWh" in page["hover"]["text"]
    assert page["headings"] == ["Load", "Meter data quality (VEE)", "Power quality", "Network", "Pipeline health"]
    assert seen["errors"] == []
    assert result.path.resolve().as_uri() in seen["requested"] and offsite(seen["requested"], result.path) == []
    assert (tmp_path / "report.png").stat().st_size > 50_000
