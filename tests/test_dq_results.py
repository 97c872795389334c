"""audit.dq_run_results and the run score, on a hand-made run result (no Prefect needed), in the real warehouse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from orchestration.results.model import CheckpointReport, DbtReport, DbtTest, DqCheck, ExpectationCheck
from orchestration.steps.dq_results import record_run, score
from tests.helpers import query

START, END = datetime(2026, 3, 10, 10), datetime(2026, 3, 10, 11)


def gx_check(name: str, severity: str, success: bool, observed=None) -> ExpectationCheck:
    return ExpectationCheck(
        name=name,
        checked_object=name.split(":")[0],
        severity=severity,
        success=success,
        observed_value=observed,
        threshold="mostly=0.99",
        detail="",
    )


def dbt_test(name: str, status: str, failures: int = 0, severity: str = "critical") -> DbtTest:
    return DbtTest(name=name, checked_object="fct_x", severity=severity, status=status, failures=failures)


CHECKPOINT = CheckpointReport(
    success=False,
    seconds=1.0,
    checks=[
        gx_check("raw_meter_readings_window: unique(event_id)", "critical", True, 0.0),
        gx_check("fct_sensor_hourly_window: between(reading_count)", "critical", True, 0.0),
        gx_check("fct_meter_consumption_hourly_window: between(consumption_kwh)", "critical", False, 12.5),
        gx_check("raw_meter_readings_window: in_set(seconds_off_quarter_hour)", "warning", False, 40.0),
        gx_check("raw_sensor_data_window: in_set(is_nan)", "warning", True, 0.0),
    ],
)
DBT = DbtReport(
    command="build",
    success=True,
    seconds=1.0,
    tests=[dbt_test("not_null_a", "pass"), dbt_test("not_null_b", "pass"), dbt_test("unique_c", "pass")],
)


def test_a_run_is_recorded_with_its_score_and_failed_checks(fresh_databases):
    warehouse, _ = fresh_databases
    # 6 critical checks (weight 3), 5 passed; 2 warnings (weight 1), 1 passed:
    # 100 x (5 x 3 + 1 x 1) / (6 x 3 + 2 x 1) = 100 x 16 / 20 = 80.0
    summary = record_run(warehouse, "run-1", START, END, CHECKPOINT, DBT)
    assert summary.score == 80.0 and summary.checks == 8
    assert [c.check_name for c in summary.failed_critical] == [
        "fct_meter_consumption_hourly_window: between(consumption_kwh)"
    ]
    assert [c.check_name for c in summary.failed_warning] == [
        "raw_meter_readings_window: in_set(seconds_off_quarter_hour)"
    ]

    # one table answers "what failed in that run, and what was its score"
    rows = query(
        warehouse,
        "select check_source, check_name, severity, observed_value, run_score, window_start, window_end "
        "from audit.dq_run_results where run_id = 'run-1' and not success order by severity",
    )
    window = (START.replace(tzinfo=UTC), END.replace(tzinfo=UTC))
    assert rows == [
        ("great_expectations", "fct_meter_consumption_hourly_window: between(consumption_kwh)", "critical",
         Decimal("12.5"), Decimal("80.0"), *window),
        ("great_expectations", "raw_meter_readings_window: in_set(seconds_off_quarter_hour)", "warning",
         Decimal("40.0"), Decimal("80.0"), *window),
    ]  # fmt: skip
    assert query(warehouse, "select count(*) from audit.dq_run_results where run_id = 'run-1'") == [(8,)]

    # recording the same run again replaces its rows; another run adds its own
    record_run(warehouse, "run-1", START, END, CHECKPOINT, DBT)
    clean = CheckpointReport(success=True, seconds=1.0, checks=[gx_check("a: b(c)", "critical", True)])
    assert record_run(warehouse, "run-2", END, datetime(2026, 3, 10, 12), clean, None).score == 100.0
    assert query(
        warehouse,
        "select run_id, run_score, checks, failed_critical, failed_warning from audit.dq_run_scores order by run_id",
    ) == [("run-1", Decimal("80.0"), 8, 1, 1), ("run-2", Decimal("100.0"), 1, 0, 0)]


def test_the_score_weighs_critical_checks_three_times():
    def check(severity, success):
        return DqCheck(check_source="dbt", check_name="x", checked_object="y", severity=severity, success=success,
                       observed_value=None, threshold=None, detail=None)  # fmt: skip

    # one failed critical among three warnings that pass: 100 x 3 / (3 + 3) = 50.0
    assert score([check("critical", False)] + [check("warning", True)] * 3) == 50.0
    # one failed warning among one passing critical: 100 x 3 / 4 = 75.0
    assert score([check("critical", True), check("warning", False)]) == 75.0
    assert score([]) == 100.0
