"""Whole flow runs through Prefect on simulated data the tests never saw, checked against an independent
reading of the contract (tests/reference.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from orchestration.simulator import SimulationConfig, simulate
from tests.helpers import (
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
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
    # hold back ~5 % of the rows: they "arrive late", after the first run, with their original (older) ids
    for table in ("sensor_data", "meter_readings"):
        query(
            source,
            f"create table held_{table} as select * from {table} where id % 20 = 3; "
            f"delete from {table} where id % 20 = 3; select 1",
        )
    return warehouse, source


def test_flow_end_to_end_with_late_rows_and_reruns(settings, simulated, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = simulated
    first = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(hours=6))
    source_rows = scalar(source, "select count(*) from sensor_data") + scalar(
        source, "select count(*) from meter_readings"
    )
    assert first["load"]["rows_loaded"] == source_rows > 0
    assert first["dbt"]["success"] and first["dbt"]["failures"] == []
    assert first["dbt"]["command"] == "build --selector hourly"  # the cadence selector (dbt_smartgrid/selectors.yml)
    assert first["checkpoint"]["success"] and first["checkpoint"]["statistics"]["unsuccessful_expectations"] == 0
    assert first["checkpoint"]["rows_validated"]["fct_meter_consumption_hourly"] > 0
    assert_marts_match_the_contract(warehouse)

    # the held-back rows arrive for hours already processed, plus three new hours of data
    for table in ("sensor_data", "meter_readings"):
        query(source, f"insert into {table} select * from held_{table}; select 1")
    simulate(source, START + timedelta(hours=6), START + timedelta(hours=9), CONFIG, now=START + timedelta(hours=40))
    second = smartgrid_etl_flow(start_time=START + timedelta(hours=8), end_time=START + timedelta(hours=9))
    late_hours = second["load"]["tables"]["meter_readings"]["changed_hours"]
    assert any(h < (START + timedelta(hours=6)).isoformat() for h in late_hours)
    sensor_count, meter_count, daily_count = assert_marts_match_the_contract(warehouse)
    assert_raw_holds_each_source_row_once(warehouse, source)

    # the same window again changes nothing
    before = {
        m: mart_rows(warehouse, m)
        for m in ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    }
    third = smartgrid_etl_flow(start_time=START + timedelta(hours=8), end_time=START + timedelta(hours=9))
    assert third["load"]["rows_loaded"] == 0
    assert {m: mart_rows(warehouse, m) for m in before} == before
    assert (sensor_count, meter_count, daily_count) == tuple(len(v) for v in before.values())


def test_an_empty_window_succeeds_with_a_freshness_warning(settings, simulated, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    result = smartgrid_etl_flow(
        start_time=datetime(2026, 1, 1, 3), end_time=datetime(2026, 1, 1, 4), enable_validation=True
    )
    assert result["load"]["window_is_empty"]
    assert any("freshness" in w for w in result["warnings"])
    # rows that arrived for earlier hours were still loaded: nothing in the source is before 2026-01-01
    assert result["load"]["rows_loaded"] == 0
    assert result["checkpoint"]["success"]


def test_a_failed_checkpoint_fails_the_run_and_says_which(settings, simulated, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from tests.helpers import insert_implausible_meter_jump

    warehouse, source = simulated
    hour = datetime(2026, 5, 1, 10)
    insert_implausible_meter_jump(source, hour)
    state = smartgrid_etl_flow(start_time=hour, end_time=hour + timedelta(hours=1), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert "checkpoint marts_window failed" in str(error) and "consumption_kwh" in str(error)
    # the marts were built (the checkpoint runs after dbt) and the result says what failed
    assert error.result["checkpoint"]["statistics"]["unsuccessful_expectations"] >= 1
    assert (
        scalar(warehouse, "select consumption_kwh from marts.fct_meter_consumption_hourly where meter_id = 'MX'")
        == 6000
    )


def test_the_run_summary_artifact_is_published(settings, simulated, prefect_api):
    from prefect.artifacts import Artifact

    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    smartgrid_etl_flow(start_time=START, end_time=START + timedelta(hours=1), enable_validation=False)
    artifact = Artifact.get("smartgrid-etl-summary")
    assert artifact is not None
    assert "rows new to raw" in artifact.data and "enable_validation=false" in artifact.data


def test_cli_run_prints_the_result_as_json_on_the_last_line(settings, simulated, prefect_api):
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    cli = [
        sys.executable,
        "-m",
        "orchestration.cli",
        "run",
        "--start",
        "2026-05-04T01:00",
        "--end",
        "2026-05-04T03:00",
        "--json",
    ]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["success"] and result["window"] == {"start": "2026-05-04T01:00:00Z", "end": "2026-05-04T03:00:00Z"}
    assert result["load"]["rows_loaded"] > 0 and result["dbt"]["success"] and result["checkpoint"]["success"]
    assert set(result["load"]["tables"]) == {"sensor_data", "meter_readings"}
