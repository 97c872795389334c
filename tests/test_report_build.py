"""How the grid report is built: its views created by dbt only when missing or changed (also when a build drops
one mid-way), a window without rows, the default window, the command line, and an empty warehouse.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.local import docs_site
from orchestration.report import build_report, report_window
from orchestration.report.artifacts import shows_the_current_window
from orchestration.report.browser import open_report
from orchestration.window import WindowError
from tests.helpers import query
from tests.report_dataset import DAY, WINDOW, figures

pytestmark = pytest.mark.slow


def test_views_are_created_only_when_missing_or_changed(settings, hand_worked, report, tmp_path):
    first, _ = report
    assert first.views_seconds is not None  # a new warehouse: dbt created the views
    again = build_report(settings, hand_worked, *WINDOW, tmp_path / "again.html")
    assert again.views_seconds is None and again.charts_drawn == 15
    query(hand_worked, "drop view reports.rpt_dq_scores; select 1")  # as a --full-refresh of a mart would
    rebuilt = build_report(settings, hand_worked, *WINDOW, tmp_path / "rebuilt.html")
    assert rebuilt.views_seconds is not None and rebuilt.charts_drawn == 15


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
    assert result.charts_drawn == 15


def test_a_window_without_rows_says_so(settings, hand_worked, tmp_path):
    later = DAY + timedelta(days=30)
    result = build_report(settings, hand_worked, later, later + timedelta(days=7), tmp_path / "later.html")
    html = result.path.read_text(encoding="utf-8")
    assert result.pipeline_has_run and result.charts_drawn == 0
    assert "No data in this window yet: nothing between 2026-04-09 00:00 and 2026-04-16 00:00 UTC." in html
    assert "No meter energy in this window." in html
    assert "Plotly" not in html  # no chart, no plotly.js


def test_the_default_window_is_the_last_seven_complete_local_days():
    now = datetime(2026, 11, 29, 15, 30)
    assert report_window(now=now) == (datetime(2026, 11, 22), datetime(2026, 11, 29))
    # Berlin is UTC+1 in November: its midnights are 23:00 UTC the evening before
    assert report_window(now=now, zone="Europe/Berlin") == (datetime(2026, 11, 21, 23), datetime(2026, 11, 28, 23))
    # across the spring change (2026-03-29): from 03-23 00:00 CET (22 23:00 UTC) to 03-30 00:00 CEST (29 22:00 UTC)
    start, end = report_window(now=datetime(2026, 3, 30, 12), zone="Europe/Berlin")
    assert (start, end, end - start) == (datetime(2026, 3, 22, 23), datetime(2026, 3, 29, 22), timedelta(hours=167))
    assert report_window("2026-11-01", now=now) == (datetime(2026, 11, 1), datetime(2026, 11, 8))
    assert report_window(end="2026-11-10T06:00+01:00", now=now) == (datetime(2026, 11, 3, 5), datetime(2026, 11, 10, 5))
    with pytest.raises(WindowError, match="must be before"):
        report_window("2026-11-10", "2026-11-09")


def test_the_command_line_writes_the_report_where_it_is_told(settings, hand_worked, tmp_path, capsys):
    from orchestration.cli import main

    out = tmp_path / "cli.html"
    assert main(["report", "--start", "2026-03-10T00:00Z", "--end", "2026-03-11T00:00Z", "--out", str(out)]) == 0
    assert "15 of 15 charts with data" in capsys.readouterr().out
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


def test_a_report_written_since_the_last_local_midnight_shows_the_current_window(tmp_path):
    report, now = tmp_path / "grid-report.html", datetime(2026, 11, 29, 15, 0)
    assert not shows_the_current_window(report, now)  # no file yet
    report.write_text("<html></html>")
    for written, zone, current in [((2026, 11, 29, 0, 5), "UTC", True), ((2026, 11, 28, 23, 59), "UTC", False),
                                   ((2026, 11, 28, 23, 5), "Europe/Berlin", True),  # after 00:00 CET
                                   ((2026, 11, 28, 22, 59), "Europe/Berlin", False)]:  # fmt: skip
        stamp = datetime(*written, tzinfo=UTC).timestamp()
        os.utime(report, (stamp, stamp))
        assert shows_the_current_window(report, now, zone) is current, (written, zone)
