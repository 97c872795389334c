"""The typed run report: `smartgrid run --json` keeps the keys the untyped dicts had; one renderer for all three."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from orchestration.results.model import (
    CheckpointReport,
    CheckpointStatistics,
    DataQualityReport,
    DbtReport,
    DbtTest,
    DqCheck,
    ExpectationCheck,
    LoadResult,
    MartRebuild,
    RetentionReport,
    RunReport,
    RunWindow,
    TableLoad,
)
from orchestration.results.render import as_json, as_markdown, as_text

# The keys `smartgrid run --json` printed before the report was typed (from the dicts of loader.py,
# dbt_runner.py, quality.py, dq_results.py, retention.py and the flow), written out by hand.
OLD_KEYS = {
    "success": None,
    "window": {"start": None, "end": None},
    "warnings": None,
    "load": {
        "load_id": None, "loaded_at": None, "window_start": None, "window_end": None, "seconds": None,
        "rows_loaded": None, "window_is_empty": None,
        "tables": {"meter_readings": {"table": None, "hours_copied": None, "rows_copied": None, "rows_loaded": None,
                                      "window_rows": None, "changed_hours": None,
                                      # added with the reconciliation horizon (docs/data-contract.md §2)
                                      "reconciled_from": None, "source_max_id": None,
                                      # added with the daily run's sweep of older days (§2)
                                      "swept_days": None}},
    },
    "dbt": {
        "command": None, "success": None, "seconds": None, "status_counts": {"pass": None}, "failures": None,
        "tests": [{"name": None, "checked_object": None, "severity": None, "status": None, "failures": None}],
        "rebuilt": {"fct_sensor_hourly": {"rows": None, "hours": None},
                    "fct_customer_consumption_daily": {"rows": None, "days": None}},
        "rejected_in_this_load": {"duplicate": None},
    },
    "checkpoint": {
        "success": None, "seconds": None,
        "statistics": {"evaluated_expectations": None, "successful_expectations": None,
                       "unsuccessful_expectations": None, "failed_critical": None, "failed_warning": None,
                       "success_percent": None},
        "failed_expectations": None, "warnings": None, "rows_validated": {"raw_sensor_data": None},
        "checks": [{"name": None, "checked_object": None, "severity": None, "success": None, "observed_value": None,
                    "threshold": None, "detail": None}],
        "data_docs": None,
    },
    "data_quality": {
        "run_id": None, "score": None, "checks": None,
        "failed_critical": [{"check_source": None, "check_name": None, "checked_object": None, "severity": None,
                             "success": None, "observed_value": None, "threshold": None, "detail": None}],
        "failed_warning": None, "table": None,
    },
    "cleanup": {"horizon": None, "rows_deleted": {"sensor_data": None}},
}  # fmt: skip


def shape(value):
    """Keys all the way down (the first element stands for a list of dicts; other values are None)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [shape(value[0])]
    return None


def full_report() -> RunReport:
    check = ExpectationCheck(
        name="fct_x_window: between(kwh)",
        checked_object="fct_x",
        severity="critical",
        success=False,
        observed_value=12.5,
        threshold="max_value=5000",
        detail="observed 6000",
    )
    dq_check = DqCheck(
        check_source="great_expectations",
        check_name=check.name,
        checked_object="fct_x",
        severity="critical",
        success=False,
        observed_value=12.5,
        threshold="max_value=5000",
        detail="",
    )
    report = RunReport(window=RunWindow.of(datetime(2026, 5, 4, 1), datetime(2026, 5, 4, 3)), warnings=["late"])
    report.load = LoadResult(
        load_id="l-1",
        loaded_at=datetime(2026, 5, 4, 3, 1, tzinfo=UTC),
        window_start=datetime(2026, 5, 4, 1),
        window_end=datetime(2026, 5, 4, 3),
        seconds=1.23456,
        tables={
            "meter_readings": TableLoad(
                table="meter_readings",
                hours_copied=2,
                rows_copied=9,
                rows_loaded=8,
                window_rows=8,
                changed_hours=["2026-05-04T01:00:00"],
            )
        },
    )
    report.dbt = DbtReport(
        command="build --selector hourly",
        success=True,
        seconds=18.456,
        status_counts={"pass": 92},
        tests=[DbtTest(name="not_null_x", checked_object="fct_x", severity="critical", status="pass", failures=0)],
        rebuilt={
            "fct_sensor_hourly": MartRebuild(rows=480, hours=24),
            "fct_customer_consumption_daily": MartRebuild(rows=32, days=2),
        },
        rejected_in_this_load={"duplicate": 3},
    )
    report.checkpoint = CheckpointReport(
        success=False,
        seconds=2.0,
        statistics=CheckpointStatistics(
            evaluated_expectations=1, unsuccessful_expectations=1, failed_critical=1, success_percent=0.0
        ),
        failed_expectations=[f"{check.name}, {check.detail}"],
        rows_validated={"raw_sensor_data": 10},
        checks=[check],
    )
    report.data_quality = DataQualityReport(
        run_id="r-1", score=0.0, checks=1, failed_critical=[dq_check], table="audit.dq_run_results"
    )
    report.cleanup = RetentionReport(horizon="2026-02-03T00:00:00", rows_deleted={"sensor_data": 5})
    return report  # fmt: skip


def test_json_keys_are_the_keys_of_the_untyped_result():
    printed = json.loads(as_json(full_report()))
    assert shape(printed) == OLD_KEYS
    assert printed["load"]["seconds"] == 1.23 and printed["dbt"]["seconds"] == 18.46  # rounded as before
    assert printed["load"]["rows_loaded"] == 8 and printed["load"]["window_is_empty"] is False


def test_a_step_that_did_not_run_is_null_and_a_failure_adds_its_error():
    report = RunReport(window=RunWindow.of(datetime(2026, 5, 4, 1), datetime(2026, 5, 4, 2)), warnings=[])
    report.checkpoint = None  # enable_validation=False
    assert json.loads(as_json(report)) == {
        "success": True,
        "window": {"start": "2026-05-04T01:00:00Z", "end": "2026-05-04T02:00:00Z"},
        "warnings": [],
        "checkpoint": None,
    }
    failed = json.loads(as_json(RunReport().failed("DbtFailure: dbt build failed: test x")))
    assert failed == {"success": False, "error": "DbtFailure: dbt build failed: test x"}


def test_text_and_markdown_show_the_same_numbers():
    report = full_report()
    text, markdown = as_text(report), as_markdown(report)
    assert "loaded               8 new rows into raw.meter_readings (2 source hours copied)" in text
    assert "dbt build     ok (pass 92) in 18.46 s" in text
    assert "data quality  score 0.0 over 1 checks; failed: 1 critical, 0 warning (audit.dq_run_results)" in text
    assert "| meter_readings | 8 | 2 | 8 |" in markdown and "| fct_customer_consumption_daily | 32 | 2 |" in markdown
    assert "score **0.0** of 100 over 1 checks" in markdown and "- critical: fct_x_window: between(kwh)" in markdown
    assert "warning       late" in text and "- late" in markdown
