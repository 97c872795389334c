"""Build the grid report: the views (when needed) -> the window's rows -> charts and key figures -> one HTML file."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration.report import figures_grid, figures_load, figures_meters, figures_network, figures_pipeline
from orchestration.report.chart import Chart
from orchestration.report.key_figures import key_figures
from orchestration.report.page import render
from orchestration.report.queries import VIEWS, fetch_window, hour_text, local_midnight, local_time
from orchestration.report.views import ensure_views, pipeline_has_run
from orchestration.settings import DbTarget, Settings
from orchestration.window import WindowError, to_utc_naive

DEFAULT_DAYS = 7


@dataclass
class ReportResult:
    """What build_report wrote, how long it took, and the key figures it showed."""

    path: Path
    start: datetime
    end: datetime
    seconds: float  # the whole build
    views_seconds: float | None  # dbt's part when the views had to be (re)created, else None
    pipeline_has_run: bool  # False: the warehouse has no marts yet
    charts_drawn: int
    charts: int
    key_figures: list[dict] = field(default_factory=list)
    readings: list[dict] = field(default_factory=list)  # each chart: section, title, what it shows (its numbers)

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path), "start": self.start.isoformat(), "end": self.end.isoformat()}


def report_zone(settings: Settings) -> str:
    """The zone of the report's days and time axes: dbt's var local_time_zone (dbt_project.yml)."""
    from orchestration.steps.dbt_project import project_vars

    return project_vars(settings)["local_time_zone"]


def report_window(start: str | datetime | None = None, end: str | datetime | None = None, now=None, zone="UTC"):
    """Naive UTC (start, end). Default: the last DEFAULT_DAYS complete local days in `zone` (local midnight to
    local midnight: 167 or 169 hours across a DST change); one bound given: DEFAULT_DAYS days from (or up to) it.
    Raises WindowError for unreadable or reversed bounds."""
    days = timedelta(days=DEFAULT_DAYS)
    start_t = None if start is None else to_utc_naive(start, "--start")
    end_t = None if end is None else to_utc_naive(end, "--end")
    if start_t is None and end_t is None:
        today = local_time(to_utc_naive(now or datetime.now(UTC)), zone).date()
        start_t, end_t = (local_midnight(today - days, zone), local_midnight(today, zone))
    elif end_t is None:
        end_t = start_t + days
    start_t = end_t - days if start_t is None else start_t
    if start_t >= end_t:
        raise WindowError(f"--start {start_t.isoformat()} must be before --end {end_t.isoformat()}")
    return start_t, end_t


def default_path(settings: Settings, warehouse: DbTarget) -> Path:
    """One file per warehouse database, in SMARTGRID_REPORT_DIR (a folder others can open, e.g. a shared or
    served one), by default $SMARTGRID_HOME/report."""
    folder = settings.report_dir.expanduser().resolve() if settings.report_dir else settings.home / "report"
    return folder / f"grid-report-{warehouse.dbname}.html"


def charts(rows: dict[str, list[dict]], zone: str) -> dict[str, list[Chart]]:
    """Every chart; days are local days in `zone`, hours and runs are shown on its wall clock (UTC in the hover)."""
    return {
        "Load": [
            figures_load.fleet_energy(rows["rpt_fleet_energy_hourly"], zone),
            figures_load.customer_energy(rows["rpt_customer_energy_daily"], zone),
            figures_load.load_shape(rows["rpt_fleet_energy_hourly"]),
        ],
        "Meter data quality (VEE)": [
            figures_meters.meter_data_quality(rows["rpt_meter_data_quality_daily"], zone),
            figures_meters.vee_exceptions(rows["rpt_vee_exceptions_daily"], zone),
        ],
        "Power quality": [
            figures_grid.power_quality_flags(rows["rpt_sensor_power_quality_hourly"], zone),
            figures_grid.voltage_p95(rows["rpt_power_quality_bands_hourly"], zone),
            figures_grid.frequency(rows["rpt_power_quality_bands_hourly"], zone),
        ],
        "Network": [
            figures_network.peak_loading(rows["rpt_transformer_loading_hourly"]),
            figures_network.loading_heat_map(rows["rpt_transformer_loading_hourly"]),
            figures_network.network_map(
                rows["rpt_transformer_loading_hourly"],
                rows["rpt_sensor_sites"],
                rows["rpt_sensor_power_quality_hourly"],
            ),
        ],
        "Pipeline health": [
            figures_pipeline.dq_scores(rows["rpt_dq_scores"], zone),
            figures_pipeline.failed_checks(rows["rpt_failed_checks"], len(rows["rpt_dq_scores"]), zone),
            figures_pipeline.rejected_readings(rows["rpt_rejected_readings_daily"], zone),
            figures_pipeline.step_durations(rows["rpt_run_step_durations"], zone),
        ],
    }


def read_views(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime, zone: str):
    """(dbt's seconds or None, the window's rows). A `dbt build` replaces the audit views with `drop ... cascade`,
    which drops the report views on them too: should that happen between creating and reading, create again."""
    from psycopg2.errors import UndefinedTable

    views_seconds = ensure_views(settings, warehouse)
    try:
        return views_seconds, fetch_window(warehouse, start, end, zone)
    except UndefinedTable:
        return ensure_views(settings, warehouse), fetch_window(warehouse, start, end, zone)


def build_report(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime, out: Path) -> ReportResult:
    """Write the report of [start, end) (naive UTC) to `out`; an empty warehouse gives a page that says so."""
    from plotly.offline import get_plotlyjs

    started = time.monotonic()
    has_run, zone = pipeline_has_run(warehouse), report_zone(settings)
    no_rows = {view: [] for view in VIEWS}
    views_seconds, rows = read_views(settings, warehouse, start, end, zone) if has_run else (None, no_rows)
    sections = charts(rows, zone) if has_run else {}
    drawn = sum(chart.has_data for section in sections.values() for chart in section)
    figures = key_figures(rows, start, end)
    notice = None
    if not has_run:
        notice = (
            "No data yet: this warehouse has no marts. Run the pipeline first (make demo, or smartgrid run), "
            "then build the report again."
        )
    elif not drawn:
        notice = f"No data in this window yet: nothing between {hour_text(start)} and {hour_text(end)} UTC."
    page = render(sections, figures, warehouse.dbname, notice, get_plotlyjs() if drawn else "")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out)  # a reader never sees half a file
    total = sum(len(section) for section in sections.values())
    readings = [{"section": name, "chart": c.title, "reading": c.reading} for name, cs in sections.items() for c in cs]
    return ReportResult(
        out, start, end, time.monotonic() - started, views_seconds, has_run, drawn, total, figures, readings
    )
