"""The grid report: one self-contained HTML file of charts from the marts and audit tables (issue 11).

    build_report(settings, warehouse, start, end, out) -> ReportResult   # build.py
    report_window(start, end, now, zone) # default: the last 7 complete local days
    artifact_rows(result)                # the key figures as the flow run's table artifact (artifacts.py)

Modules: views.py (the dbt views in models/reports, created only when needed), queries.py (their rows for a
window), figures_*.py (one Plotly chart per view, with a one-line reading), key_figures.py, page.py (the HTML),
build.py, artifacts.py (the flow's task and Prefect artifacts), command.py (`smartgrid report`).
"""

from orchestration.report.build import ReportResult, build_report, default_path, report_window

__all__ = ["ReportResult", "build_report", "default_path", "report_window"]
