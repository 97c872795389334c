"""The grid report in the flow: after a successful run, rebuild the report and attach its key figures (a table
artifact) and a link to the file (a link artifact) to the flow run.

The report shows the last complete UTC days, so its window moves once a day: the first good run after UTC
midnight rewrites it, and so does the daily run (which has seen the day's late rows). Other hourly runs leave
it: its VEE section reads views over all of history (12 s after 14 days of 5,000 meters, growing with both).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from orchestration.report.build import ReportResult, build_report, default_path, report_window, report_zone
from orchestration.settings import DbTarget, Settings

TABLE_KEY = "smartgrid-grid-report"
LINK_KEY = "smartgrid-grid-report-file"
CHARTS_KEY = "smartgrid-grid-report-charts"


def report_link(settings: Settings, path: Path) -> str:
    """Where others open the report: SMARTGRID_REPORT_URL + the file's name when the folder is served, else
    the file's path (in SMARTGRID_REPORT_DIR: a shared folder)."""
    return f"{settings.report_url.rstrip('/')}/{path.name}" if settings.report_url else path.as_uri()


def charts_markdown(result: ReportResult, link: str) -> str:
    """Every chart's reading of the window (its numbers, in words), by section, and where the page is."""
    lines = [f"# Grid report, {result.key_figures[0]['value']} UTC", "", f"The page: [{link}]({link})", ""]
    section = None
    for item in result.readings:
        if item["section"] != section:
            section = item["section"]
            lines += ["", f"## {section}", ""]
        lines.append(f"- **{item['chart']}**: {item['reading']}")
    return "\n".join(lines)


def artifact_rows(result: ReportResult) -> list[dict]:
    """The key figures as the rows of the run's table artifact, then how the report was built."""
    rows = [{**item, "value": "-" if item["value"] is None else item["value"]} for item in result.key_figures]
    rows.append({"figure": "charts with data", "value": result.charts_drawn, "unit": f"of {result.charts}"})
    rows.append({"figure": "report built in", "value": round(result.seconds, 2), "unit": "s"})
    return rows


def shows_the_current_window(path: Path, now: datetime | None = None, zone: str = "UTC") -> bool:
    """True when the report file was written after the last local midnight: it already shows the current window."""
    if not path.exists():
        return False
    _, window_end = report_window(now=now, zone=zone)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None) >= window_end


@task(name="grid report", cache_policy=NO_CACHE)
def grid_report_task(settings: Settings, warehouse: DbTarget, always: bool = False) -> dict:
    """Rewrite the grid report (the last 7 complete local days) when its window has moved, or `always`, and
    attach its key figures to the run.

    A report that cannot be built is logged and returned as an error: the run's data is good all the same.
    """
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    path, zone = default_path(settings, warehouse), report_zone(settings)
    if not always and shows_the_current_window(path, zone=zone):
        get_run_logger().info("grid report: %s already shows the last complete %s days; not rebuilt", path, zone)
        return {"path": str(path), "rebuilt": False}
    try:
        result = build_report(settings, warehouse, *report_window(zone=zone), path)
    except Exception as exc:  # the report is a by-product: never fail a run whose data passed its checks
        get_run_logger().error("the grid report could not be built: %s: %s", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    window = result.key_figures[0]["value"]
    create_table_artifact(
        key=TABLE_KEY, table=artifact_rows(result), description=f"Grid report key figures, {window} UTC"
    )
    link = report_link(settings, result.path)
    create_markdown_artifact(
        key=CHARTS_KEY, markdown=charts_markdown(result, link), description=f"Grid report charts, {window} UTC"
    )
    create_link_artifact(
        key=LINK_KEY,
        link=link,
        link_text=f"grid report {window} UTC",
        description=f"The grid report file ({result.path}), rebuilt by this run in {result.seconds:.1f} s",
    )
    get_run_logger().info("grid report: %s (%.1f s)", result.path, result.seconds)
    return {**result.to_dict(), "rebuilt": True}
