"""The grid report (`smartgrid report`) built from a hand-worked warehouse: the numbers its charts draw, read back
from the data embedded in the HTML file (never from pixels); the page in headless Chromium (every chart drawn,
hover shows the value, no console error, no request beyond the file); an empty warehouse; the window.

Every expected number is worked out in the comments. Times are UTC; DAY is a Tuesday, and Europe/Berlin (the
project's local_time_zone) is UTC+1 on it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orchestration.db.connection import drop_database, ensure_database
from orchestration.local import docs_site
from orchestration.report import build_report, report_window
from orchestration.report.browser import offsite, open_report
from orchestration.results.model import (
    CheckpointReport,
    CheckpointStatistics,
    DataQualityReport,
    DbtReport,
    ExpectationCheck,
    LoadResult,
    RunReport,
    RunWindow,
)
from orchestration.steps.dq_results import record_run
from orchestration.steps.loader import load_raw
from orchestration.steps.run_steps import record_run_steps
from orchestration.window import WindowError
from tests import helpers
from tests.helpers import build, insert_meter_rows, insert_sensor_rows, query

pytestmark = pytest.mark.slow
needs_chromium = pytest.mark.skipif(
    not docs_site.CHROMIUM.exists(), reason=f"no Chromium at {docs_site.CHROMIUM}: apt-get install chromium"
)

DAY = datetime(2026, 3, 10)  # a Tuesday
WINDOW = (DAY, DAY + timedelta(days=1))


def at(hhmm: str) -> datetime:
    return helpers.at(hhmm, DAY)


def meter(event: str, meter_id: str, customer: str, reading: float, hhmm: str, **extra) -> dict:
    row = {"event_id": event, "meter_id": meter_id, "customer_id": customer, "reading": reading, "timestamp": at(hhmm)}
    return row | extra


def sensor(event: str, sensor_id: str, sensor_type: str, value: float, t: datetime) -> dict:
    return {"event_id": event, "sensor_id": sensor_id, "sensor_type": sensor_type, "value": value, "timestamp": t}


# M1 (customer C1): four measured quarter-hours of 1 kWh in hour 00, then 2 kWh over 01:00 -> 02:00, one
# interval of an hour (a gap of <= 2 h): interpolated, all in hour 01.
# M2 (customer C2): four quarter-hours of 0.5 kWh in hour 00; its 00:15 reading arrives twice (same value), so
# the earlier copy is rejected as a duplicate.
METER_ROWS = [
    *[meter(f"m1-{i}", "M1", "C1", 100 + i, f"00:{15 * i:02d}") for i in range(4)],
    meter("m1-4", "M1", "C1", 104, "01:00"),
    meter("m1-5", "M1", "C1", 106, "02:00"),
    *[meter(f"m2-{i}", "M2", "C2", 50 + 0.5 * i, f"00:{15 * i:02d}") for i in range(4)],
    meter("m2-4", "M2", "C2", 52, "01:00"),
    meter("m2-1-again", "M2", "C2", 50.5, "00:15", created_at=at("00:20")),
]
# S1, hour 00: voltage 230, 231, 260 (260 V is above the 253 V band edge: out of band); frequency 50.0 and 50.1
# (inside 49.5-50.5 Hz, but 2 of 60 expected readings: incomplete); a NaN voltage (rejected, not_a_number).
# S2: 60 frequency readings of 50.0 Hz in hour 00 (ok), one of 49.0 Hz in hour 01 (below 49.5: out of band).
SENSOR_ROWS = [
    sensor("s1-v1", "S1", "voltage", 230, at("00:10")),
    sensor("s1-v2", "S1", "voltage", 231, at("00:20")),
    sensor("s1-v3", "S1", "voltage", 260, at("00:30")),
    sensor("s1-nan", "S1", "voltage", float("nan"), at("00:40")),
    sensor("s1-f1", "S1", "frequency", 50.0, at("00:10")),
    sensor("s1-f2", "S1", "frequency", 50.1, at("00:20")),
    *[sensor(f"s2-f{m}", "S2", "frequency", 50.0, DAY + timedelta(minutes=m)) for m in range(60)],
    sensor("s2-low", "S2", "frequency", 49.0, at("01:30")),
]


def gx_check(name: str, severity: str, success: bool, observed: float) -> ExpectationCheck:
    return ExpectationCheck(name=name, checked_object="raw_meter_readings", severity=severity, success=success,
                            observed_value=observed, threshold="mostly=0.99", detail="")  # fmt: skip


def checkpoint_of(checks: list[ExpectationCheck]) -> CheckpointReport:
    statistics = CheckpointStatistics(evaluated_expectations=len(checks), unsuccessful_expectations=0,
                                      failed_critical=0, success_percent=100.0)  # fmt: skip
    return CheckpointReport(success=True, seconds=0, statistics=statistics, checks=checks)


def run_result(run_id: str, start: datetime, seconds: dict[str, float | None]) -> RunReport:
    """A run's report as record_run_steps reads it: the run id, its window and each step's seconds."""
    report = RunReport(window=RunWindow.of(start, start + timedelta(hours=1)))
    report.data_quality = DataQualityReport(run_id=run_id, score=100.0, checks=0, table="audit.dq_run_results")
    if seconds["load"] is not None:
        report.load = LoadResult(load_id="l", loaded_at=start, window_start=start, window_end=start,
                                 seconds=seconds["load"], tables={})  # fmt: skip
    if seconds["dbt"] is not None:
        report.dbt = DbtReport(command="build", success=True, seconds=seconds["dbt"])
    if seconds["checkpoint"] is not None:
        report.checkpoint = checkpoint_of([])
        report.checkpoint.seconds = seconds["checkpoint"]
    return report


def record_runs(warehouse) -> None:
    # run-a (00:00-01:00): a critical check passed (weight 3), a warning failed (weight 1): 100 x 3 / 4 = 75.0
    checks_a = [gx_check("raw: unique(event_id)", "critical", True, 0), gx_check("raw: grid", "warning", False, 40)]
    record_run(warehouse, "run-a", at("00:00"), at("01:00"), checkpoint_of(checks_a), None)
    # run-b (01:00-02:00): its one check passed: 100.0
    checks_b = [gx_check("raw: unique(event_id)", "critical", True, 0)]
    record_run(warehouse, "run-b", at("01:00"), at("02:00"), checkpoint_of(checks_b), None)
    # a run two days earlier, outside the report's window, with a failed critical check: not in the report
    old = DAY - timedelta(days=2)
    checks_old = [gx_check("raw: unique(event_id)", "critical", False, 5)]
    record_run(warehouse, "run-old", old, old + timedelta(hours=1), checkpoint_of(checks_old), None)
    # step seconds: run-a 1.5 + 10.25 + 3.0 = 14.75 s; run-b ran no checkpoint, 0.5 + 8.0 = 8.5 s
    record_run_steps(warehouse, run_result("run-a", at("00:00"), {"load": 1.5, "dbt": 10.25, "checkpoint": 3.0}))
    record_run_steps(warehouse, run_result("run-b", at("01:00"), {"load": 0.5, "dbt": 8.0, "checkpoint": None}))
    record_run_steps(warehouse, run_result("run-old", old, {"load": 99.0, "dbt": 99.0, "checkpoint": None}))


@pytest.fixture(scope="module")
def hand_worked(settings, warehouse, source):
    """The warehouse built from the rows above, with three runs recorded (module-wide: one dbt build)."""
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    helpers.create_source_tables(source)
    insert_meter_rows(source, METER_ROWS)
    insert_sensor_rows(source, SENSOR_ROWS)
    load_raw(warehouse, source, DAY, DAY + timedelta(hours=3))
    build(settings, warehouse)
    record_runs(warehouse)
    return warehouse


@pytest.fixture(scope="module")
def report(settings, hand_worked, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "grid-report.html"
    result = build_report(settings, hand_worked, *WINDOW, path)
    return result, path.read_text(encoding="utf-8")


def embedded(html: str, element_id: str):
    """The JSON the page embeds in <script type="application/json" id=...>: what its chart draws."""
    match = re.search(rf'<script type="application/json" id="{element_id}"[^>]*>(.*?)</script>', html, re.S)
    assert match, f"no {element_id} in the report"
    return json.loads(match.group(1))


def traces(html: str, chart: str) -> dict[str, dict]:
    return {trace.get("name"): trace for trace in embedded(html, f"chart-data-{chart}")["data"]}


def figures(html: str) -> dict[str, tuple]:
    return {item["figure"]: (item["value"], item["unit"]) for item in embedded(html, "key-figures")}


def test_key_figures(report):
    result, html = report
    assert result.charts_drawn == result.charts == 12
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
    hours = ["2026-03-10 00:00", "2026-03-10 01:00"]
    assert {name: (t["x"], t["y"]) for name, t in fleet.items()} == {
        "measured": (hours, [6.0, 0.0]),
        "interpolated": (hours, [0.0, 2.0]),
        "like-day estimate": (hours, [0.0, 0.0]),
        "unestimated gap": (hours, [0.0, 0.0]),
    }
    customers = traces(html, "customer-energy")
    assert list(customers) == ["C1", "C2"]  # the most energy first
    assert (customers["C1"]["y"], customers["C1"]["customdata"]) == ([6.0], [[2.0, 1]])  # 6 kWh, 2 estimated
    assert (customers["C2"]["y"], customers["C2"]["customdata"]) == ([2.0], [[0.0, 1]])
    # UTC 00:00 and 01:00 on a Tuesday are 01:00 and 02:00 in Berlin: one day each, 6 and 2 kWh
    shape = embedded(html, "chart-data-load-shape")["data"][0]
    cells = {(y, x): z for y, row in zip(shape["y"], shape["z"], strict=True) for x, z in enumerate(row) if z}
    assert cells == {("Tue", 1): 6.0, ("Tue", 2): 2.0}


def test_meter_data_quality_charts(report):
    _, html = report
    quality = embedded(html, "chart-data-meter-data-quality")["data"][0]
    assert (quality["x"], quality["y"]) == (["2026-03-10"], ["M1", "M2"])
    # M1: hour 00 measured, hour 01 interpolated, 22 hours without a row: 1/24 = 4.2 %, 4.2 %, 22/24 = 91.7 %
    # M2: hour 00 measured, 23 hours without a row: 4.2 % measured, 23/24 = 95.8 % missing
    assert quality["z"] == [[4.2], [4.2]]
    assert quality["customdata"] == [[[4.2, 0.0, 0.0, 91.7]], [[0.0, 0.0, 0.0, 95.8]]]
    # M1 reads 00:00 .. 02:00: 9 quarter-hours expected, 6 found: one meter fails `gap`, with 3 missing
    assert {name: (t["x"], t["y"], t["customdata"]) for name, t in traces(html, "vee-exceptions").items()} == {
        "gap": (["2026-03-10"], [1], [3])
    }


def test_power_quality_charts(report):
    _, html = report
    flags = embedded(html, "chart-data-power-quality-flags")["data"][0]
    assert flags["y"] == ["S1", "S2"]
    assert flags["z"] == [[2, None], [0, 2]]  # 2 out of band, 0 ok; S1 has no row in hour 01
    assert flags["customdata"][0][0] == ["out_of_band", "voltage", "frequency"]
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
    assert page is not None and len(page["plots"]) == 12
    assert page["drawn"] == page["plots"]  # plotly.js drew every chart
    assert page["hover"]["chart"] == "plot-fleet-energy" and "measured: 6.00 kWh" in page["hover"]["text"]
    assert page["headings"] == ["Load", "Meter data quality (VEE)", "Power quality", "Pipeline health"]
    assert seen["errors"] == []
    assert result.path.resolve().as_uri() in seen["requested"] and offsite(seen["requested"], result.path) == []
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_views_are_created_only_when_missing_or_changed(settings, hand_worked, report, tmp_path):
    first, _ = report
    assert first.views_seconds is not None  # a new warehouse: dbt created the views
    again = build_report(settings, hand_worked, *WINDOW, tmp_path / "again.html")
    assert again.views_seconds is None and again.charts_drawn == 12
    query(hand_worked, "drop view reports.rpt_dq_scores; select 1")  # as a --full-refresh of a mart would
    rebuilt = build_report(settings, hand_worked, *WINDOW, tmp_path / "rebuilt.html")
    assert rebuilt.views_seconds is not None and rebuilt.charts_drawn == 12


def test_a_view_dropped_between_creating_and_reading_is_created_again(settings, hand_worked, tmp_path, monkeypatch):
    from orchestration.report import build as report_build

    create_views, created = report_build.ensure_views, []

    def and_then_a_dbt_build_drops_one(settings, warehouse):
        created.append(create_views(settings, warehouse))
        if len(created) == 1:  # what replacing audit.rejected_readings does to the view on it
            query(warehouse, "drop view reports.rpt_rejected_readings_daily; select 1")
        return created[-1]

    monkeypatch.setattr(report_build, "ensure_views", and_then_a_dbt_build_drops_one)
    result = build_report(settings, hand_worked, *WINDOW, tmp_path / "raced.html")
    assert len(created) == 2 and created[1] is not None  # the second call ran dbt
    assert result.charts_drawn == 12


def test_a_window_without_rows_says_so(settings, hand_worked, tmp_path):
    later = DAY + timedelta(days=30)
    result = build_report(settings, hand_worked, later, later + timedelta(days=7), tmp_path / "later.html")
    html = result.path.read_text(encoding="utf-8")
    assert result.pipeline_has_run and result.charts_drawn == 0
    assert "No data in this window yet: nothing between 2026-04-09 00:00 and 2026-04-16 00:00 UTC." in html
    assert "No meter energy in this window." in html
    assert "Plotly" not in html  # no chart, no plotly.js


def test_the_default_window_is_the_last_seven_complete_utc_days():
    now = datetime(2026, 11, 29, 15, 30)
    assert report_window(now=now) == (datetime(2026, 11, 22), datetime(2026, 11, 29))
    assert report_window("2026-11-01", now=now) == (datetime(2026, 11, 1), datetime(2026, 11, 8))
    assert report_window(end="2026-11-10T06:00+01:00", now=now) == (datetime(2026, 11, 3, 5), datetime(2026, 11, 10, 5))
    with pytest.raises(WindowError, match="must be before"):
        report_window("2026-11-10", "2026-11-09")


def test_the_command_line_writes_the_report_where_it_is_told(settings, hand_worked, tmp_path, capsys):
    from orchestration.cli import main

    out = tmp_path / "cli.html"
    assert main(["report", "--start", "2026-03-10T00:00Z", "--end", "2026-03-11T00:00Z", "--out", str(out)]) == 0
    assert "12 of 12 charts with data" in capsys.readouterr().out
    assert figures(out.read_text(encoding="utf-8"))["fleet energy"] == (8.0, "kWh")
    assert main(["report", "--start", "yesterday"]) == 2
    assert Path(out).stat().st_size > 1_000_000  # plotly.js is inside: the file opens without a network


# last: it empties the test databases that the module's other tests read
def test_an_empty_warehouse_gives_a_page_that_says_there_is_no_data_yet(settings, fresh_databases, tmp_path):
    warehouse, _ = fresh_databases
    result = build_report(settings, warehouse, *WINDOW, tmp_path / "empty.html")
    assert not result.pipeline_has_run and result.charts_drawn == 0 and result.views_seconds is None
    html = result.path.read_text(encoding="utf-8")
    assert "No data yet: this warehouse has no marts." in html and "Plotly" not in html
    figures_of_empty = figures(html)
    assert figures_of_empty["fleet energy"] == (0, "kWh") and figures_of_empty["latest data-quality score"][0] is None
    if not docs_site.CHROMIUM.exists():
        return
    seen = open_report(result.path)
    assert seen["value"]["notice"].startswith("No data yet: this warehouse has no marts.")
    assert seen["value"]["plots"] == [] and seen["errors"] == []
