"""The grid report in the flow: after a successful run, rebuild the report and attach its key figures (a table
artifact) and a link to the file (a link artifact) to the flow run."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from orchestration.report.build import ReportResult, build_report, default_path, report_window
from orchestration.settings import DbTarget, Settings

TABLE_KEY = "smartgrid-grid-report"
LINK_KEY = "smartgrid-grid-report-file"


def artifact_rows(result: ReportResult) -> list[dict]:
    """The key figures as the rows of the run's table artifact, then how the report was built."""
    rows = [{**item, "value": "-" if item["value"] is None else item["value"]} for item in result.key_figures]
    rows.append({"figure": "charts with data", "value": result.charts_drawn, "unit": f"of {result.charts}"})
    rows.append({"figure": "report built in", "value": round(result.seconds, 2), "unit": "s"})
    return rows


@task(name="grid report", cache_policy=NO_CACHE)
def grid_report_task(settings: Settings, warehouse: DbTarget) -> dict:
    """Rewrite the grid report (the last 7 complete UTC days) and attach its key figures to the run.

    A report that cannot be built is logged and returned as an error: the run's data is good all the same.
    """
    from prefect.artifacts import create_link_artifact, create_table_artifact

    try:
        result = build_report(settings, warehouse, *report_window(), default_path(settings, warehouse))
    except Exception as exc:  # the report is a by-product: never fail a run whose data passed its checks
        get_run_logger().error("the grid report could not be built: %s: %s", type(exc).__name__, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    window = result.key_figures[0]["value"]
    create_table_artifact(
        key=TABLE_KEY, table=artifact_rows(result), description=f"Grid report key figures, {window} UTC"
    )
    create_link_artifact(
        key=LINK_KEY,
        link=result.path.as_uri(),
        link_text=f"grid report {window} UTC",
        description=f"The grid report file ({result.path}), rebuilt by this run in {result.seconds:.1f} s",
    )
    get_run_logger().info("grid report: %s (%.1f s)", result.path, result.seconds)
    return result.to_dict()
