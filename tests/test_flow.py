"""Whole flow runs through Prefect on simulated data the tests never saw, checked against an independent
reading of the contract (tests/reference.py)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta

import pytest

from orchestration.local.simulator import SimulationConfig, simulate
from tests.helpers import (
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
    cli_run,
    harness_env,
    mart_rows,
    query,
    scalar,
)

pytestmark = pytest.mark.slow

START = datetime(2026, 5, 4, 0)  # a Monday
CONFIG = SimulationConfig(meters=6, sensors=2, seed=2024, defect_rate=0.04)


@pytest.fixture
def simulated(fresh_databases):
    warehouse, source = fresh_databases
    simulate(source, START, START + timedelta(hours=6), CONFIG, now=START + timedelta(hours=40))
    # hold back ~5 % of the rows: they "arrive late", after the first run (and get new ids, as a bigserial
    # assigns at insert; rows whose ids are older than what raw saw are tests/test_loader.py's case)
    for table in ("sensor_data", "meter_readings"):
        query(
            source,
            f"create table held_{table} as select * from {table} where id % 20 = 3; "
            f"delete from {table} where id % 20 = 3; select 1",
        )
    return warehouse, source


def test_flow_end_to_end_with_late_rows_and_reruns(settings, simulated, prefect_api, monkeypatch):
    from orchestration import process_exit
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = simulated
    monkeypatch.setattr(process_exit, "_registered", False)
    first = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(hours=6))
    assert process_exit._registered  # a worker's process exits without collecting (tests/test_process_exit.py)
    source_rows = scalar(source, "select count(*) from sensor_data") + scalar(
        source, "select count(*) from meter_readings"
    )
    assert first.load.rows_loaded == source_rows > 0
    assert first.dbt.success and first.dbt.failures == []
    # the cadence selector (dbt_smartgrid/selectors.yml); the VEE day checks are the daily run's
    assert first.dbt.command == "build --selector hourly --vars {vee_day_checks: false}"
    assert first.checkpoint.success and first.checkpoint.statistics.failed_critical == 0
    window = (START, START + timedelta(hours=6))
    assert first.checkpoint.rows_validated["raw_meter_readings"] == scalar(
        warehouse, 'select count(*) from raw.meter_readings where "timestamp" >= %s and "timestamp" < %s', window
    )
    assert first.checkpoint.rows_validated["fct_meter_consumption_hourly"] == scalar(
        warehouse, "select count(*) from marts.fct_meter_consumption_hourly where hour_start >= %s and hour_start < %s",
        tuple(f"{at.isoformat()}+00" for at in window),
    ) > 0
    # every expectation and dbt data test of the run is in audit.dq_run_results, none critical and failed
    dq = first.data_quality
    assert dq.failed_critical == [] and dq.checks == first.checkpoint.statistics.evaluated_expectations + len(
        first.dbt.tests
    )
    assert query(
        warehouse,
        "select count(*), count(*) filter (where not success and severity = 'critical') "
        "from audit.dq_run_results where run_id = %s",
        (dq.run_id,),
    ) == [(dq.checks, 0)]
    assert_marts_match_the_contract(warehouse)

    # the held-back rows arrive for hours already processed, plus three new hours of data
    for table in ("sensor_data", "meter_readings"):
        query(
            source,
            f"alter table held_{table} drop column id; "
            f"insert into {table} select nextval('{table}_id_seq'), * from held_{table}; select 1",
        )
    held = sum(scalar(source, f"select count(*) from held_{t}") for t in ("sensor_data", "meter_readings"))
    simulate(source, START + timedelta(hours=6), START + timedelta(hours=9), CONFIG, now=START + timedelta(hours=40))
    six = START + timedelta(hours=6)
    new_hours = sum(
        scalar(source, f'select count(*) from {t} where "timestamp" >= %s', (six,))
        for t in ("sensor_data", "meter_readings")
    )
    second = smartgrid_etl_flow(start_time=START + timedelta(hours=8), end_time=START + timedelta(hours=9))
    # the late rows are for hours before the reconciled ones: found by their new ids
    assert second.load.rows_loaded == held + new_hours
    sensor_count, meter_count, daily_count = assert_marts_match_the_contract(warehouse)
    assert_raw_holds_each_source_row_once(warehouse, source)

    # the same window again changes nothing
    before = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    third = smartgrid_etl_flow(start_time=START + timedelta(hours=8), end_time=START + timedelta(hours=9))
    assert third.load.rows_loaded == 0
    assert {m: mart_rows(warehouse, m) for m in before} == before
    assert (sensor_count, meter_count, daily_count) == tuple(len(v) for v in before.values())


def test_an_empty_window_succeeds_with_a_freshness_warning(settings, simulated, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    result = smartgrid_etl_flow(
        start_time=datetime(2026, 1, 1, 3), end_time=datetime(2026, 1, 1, 4), enable_validation=True
    )
    assert result.load.window_is_empty
    assert any("freshness" in w for w in result.warnings)
    # rows that arrived for earlier hours were still loaded: nothing in the source is before 2026-01-01
    assert result.load.rows_loaded == 0
    assert result.checkpoint.success


def test_a_failed_checkpoint_fails_the_run_and_says_which(settings, simulated, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from tests.helpers import insert_implausible_meter_jump

    warehouse, source = simulated
    hour = datetime(2026, 5, 1, 10)
    insert_implausible_meter_jump(source, hour)
    state = smartgrid_etl_flow(start_time=hour, end_time=hour + timedelta(hours=1), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert "checkpoint run_window failed" in str(error) and "consumption_kwh" in str(error)
    # the marts were built (the checkpoint runs after dbt) and the result says what failed
    assert error.report.checkpoint.statistics.unsuccessful_expectations >= 1
    # the failed run's checks and score are recorded before it fails
    run_id = error.report.data_quality.run_id
    failed = query(
        warehouse,
        "select check_name, run_score from audit.dq_run_results "
        "where run_id = %s and not success and severity = 'critical' order by 1",
        (run_id,),
    )
    assert [name for name, _ in failed] == [
        "fct_meter_consumption_hourly_vee_window: expect_column_values_to_be_between(vee_kwh)",
        "fct_meter_consumption_hourly_window: expect_column_values_to_be_between(consumption_kwh)",
    ]
    assert all(run_score < 100 for _, run_score in failed)
    assert (
        scalar(warehouse, "select consumption_kwh from marts.fct_meter_consumption_hourly where meter_id = 'MX'")
        == 6000
    )


def test_the_run_summary_artifact_is_published(simulated, prefect_api, tmp_path, monkeypatch):
    from prefect.artifacts import Artifact

    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, _ = simulated
    # the report goes to a shared folder, served at a URL: the artifacts link there, not to the worker's disk
    monkeypatch.setenv("SMARTGRID_REPORT_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("SMARTGRID_REPORT_URL", "https://reports.example.com/grid/")
    result = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(hours=1), enable_validation=False)
    artifact = Artifact.get("smartgrid-etl-summary")
    assert artifact is not None
    assert "rows new to raw" in artifact.data and "enable_validation=false" in artifact.data
    # without the checkpoint the dbt data tests alone make the score
    assert "## Data quality" in artifact.data and f"score **{result.data_quality.score}**" in artifact.data
    # the grid report: its key figures and a link to the file; the run's step seconds in audit.run_steps
    grid = result.grid_report
    assert os.path.exists(grid["path"]) and grid["pipeline_has_run"] and grid["rebuilt"]
    assert grid["path"] == str(tmp_path / "shared" / f"grid-report-{warehouse.dbname}.html")
    assert "fleet energy" in Artifact.get("smartgrid-grid-report").data
    link = f"https://reports.example.com/grid/grid-report-{warehouse.dbname}.html"
    assert Artifact.get("smartgrid-grid-report-file").data.endswith(f"({link})")
    charts = Artifact.get("smartgrid-grid-report-charts").data  # every chart's numbers, by section, and the link
    assert link in charts and "## Load" in charts and charts.count("- **") == grid["charts"]
    steps = query(warehouse, "select step from audit.run_steps where run_id = %s", (result.data_quality.run_id,))
    assert sorted(steps) == [("dbt build",), ("load",)]  # no checkpoint: enable_validation=False
    # the next hour's run leaves the report: it already shows the last complete UTC days
    later = smartgrid_etl_flow(start_time=START + timedelta(hours=1), end_time=START + timedelta(hours=2))
    assert later.grid_report == {"path": grid["path"], "rebuilt": False}


def test_warnings_are_recorded_and_shown_but_do_not_fail_the_run(settings, simulated, prefect_api):
    from prefect.artifacts import Artifact

    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from tests.helpers import insert_meter_rows

    warehouse, source = simulated
    hour = datetime(2026, 5, 2, 10)
    # a meter whose clock is 5 minutes off the quarter-hour grid: 10:05, 10:20, 10:35, 10:50 (all valid per
    # docs/data-contract.md §3), so all 4 raw rows of the window are off the grid (warning: at most 1 % may be),
    # and no sensor reported in this hour (warning: an empty window)
    insert_meter_rows(
        source,
        [
            {
                "event_id": f"off-{minute}",
                "meter_id": "MO",
                "customer_id": "CO",
                "reading": 100 + minute / 100,
                "timestamp": hour + timedelta(minutes=minute),
            }
            for minute in (5, 20, 35, 50)
        ],
    )
    result = smartgrid_etl_flow(start_time=hour, end_time=hour + timedelta(hours=1))
    dq = result.data_quality
    assert result.checkpoint.success and dq.failed_critical == []
    failed = {(c.check_name, c.observed_value) for c in dq.failed_warning}
    assert ("raw_meter_readings_window: expect_column_values_to_be_in_set(seconds_off_quarter_hour)", 100.0) in failed
    assert ("raw_sensor_data_window: expect_table_row_count_to_be_between()", 0) in failed
    # the score counts them: the same number from the table, by the README's formula (critical 3, warning 1)
    rows = query(warehouse, "select severity, success, run_score from audit.dq_run_results where run_id = %s",
                 (dq.run_id,))  # fmt: skip
    weights = [(3 if severity == "critical" else 1, ok) for severity, ok, _ in rows]
    expected = round(100 * sum(w for w, ok in weights if ok) / sum(w for w, _ in weights), 1)
    assert dq.score == expected < 100 and {float(r[2]) for r in rows} == {expected}
    # the VEE rule sees the same clock problem, reading by reading
    assert query(
        warehouse,
        "select exception_count from audit.meter_vee_exceptions where meter_id = 'MO' and reason_code = 'off_grid'",
    ) == [(4,)]
    artifact = Artifact.get("smartgrid-etl-summary")
    assert "warning: raw_meter_readings_window: expect_column_values_to_be_in_set(seconds_off_quarter_hour)" in (
        artifact.data
    )
    assert f"score **{expected}**" in artifact.data


def test_cli_run_prints_the_result_as_json_on_the_last_line(settings, simulated, prefect_api):
    env = harness_env()
    cli = cli_run("2026-05-04T01:00", "2026-05-04T03:00", "--json")
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["success"] and result["window"] == {"start": "2026-05-04T01:00:00Z", "end": "2026-05-04T03:00:00Z"}
    assert result["load"]["rows_loaded"] > 0 and result["dbt"]["success"] and result["checkpoint"]["success"]
    assert set(result["load"]["tables"]) == {"sensor_data", "meter_readings", "transformers", "meter_connections"}
    assert set(result) == {
        "success", "window", "warnings", "load", "dbt", "checkpoint", "data_quality", "cleanup",
        "grid_report",  # added with the grid report (orchestration/report)
    }  # fmt: skip
