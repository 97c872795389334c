"""Runs that collide or fail part-way: a second run waits for the first, a run killed mid-way and a failed
`dbt build` lose, double and change nothing (raw holds each source row once; the marts stay as they were)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import timedelta

import pytest

from orchestration.db.lock import RunLockTimeout, run_lock
from tests import faults
from tests.helpers import (
    THREE_DAYS_START,
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
    cli_run,
    harness_env,
    query,
    scalar,
)

START = THREE_DAYS_START


def test_a_second_run_waits_for_the_first_and_gives_up_with_a_clear_message(warehouse):
    order = []
    with run_lock(warehouse):
        with (
            pytest.raises(RunLockTimeout, match="another smartgrid run holds the pipeline lock"),
            run_lock(warehouse, wait_seconds=0.2, poll_seconds=0.1),
        ):
            pass

        def second():
            with run_lock(warehouse, wait_seconds=30, poll_seconds=0.1):
                order.append("second")

        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.5)
        order.append("first done")
    waiter.join(timeout=30)
    assert order == ["first done", "second"]


# --- a run killed mid-way --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_run_killed_mid_way_and_run_again_loses_and_doubles_nothing(three_days, prefect_api):
    warehouse, source = three_days
    env = harness_env()
    cli = cli_run("2026-04-06T00:00", "2026-04-09T00:00", "--no-validation")
    process = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # killed while dbt builds a model: one of its queries (dbt names the node in a comment) is running
    building = faults.wait_for(
        lambda: query(
            warehouse,
            "select query from pg_stat_activity where application_name = 'dbt' and state = 'active' "
            """and query like '%"node_id": "model.%'""",
        ),
        "dbt building a model",
        timeout=300,
        alive=lambda: process.poll() is None,
    )
    process.kill()
    process.wait()
    assert '"node_id": "model.' in building[0][0]
    # the load had committed: both reading tables, and both network tables (the simulated source has a network)
    assert scalar(warehouse, "select count(*) from raw.load_log") == 4

    again = subprocess.run(cli + ["--json"], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["load"]["rows_loaded"] == 0
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)


# --- a failed build leaves the marts as they were ---------------------------------------------------------


@pytest.mark.slow
def test_a_failed_dbt_build_leaves_the_marts_as_they_were(settings, three_days, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from tests.helpers import mart_rows

    warehouse, source = three_days
    assert smartgrid_etl_flow(start_time=START, end_time=START + timedelta(days=1), enable_validation=False)
    # a fault in the meter mart: a trigger makes the rows it writes for one hour of the next day bad (estimated >
    # consumption); that mart's test on the latest load fails after it (and the sensor mart) were rebuilt, and
    # dbt skips the daily mart
    bad_hour = START + timedelta(days=1, hours=5)
    query(
        warehouse,
        "create function marts.corrupt_row() returns trigger language plpgsql as "
        "$$ begin new.estimated_kwh := new.consumption_kwh + 1; return new; end $$; "
        "create trigger corrupt_row before insert on marts.fct_meter_consumption_hourly for each row "
        f"when (new.hour_start = '{bad_hour.isoformat()}+00') execute function marts.corrupt_row(); select 1",
    )
    marts = ("fct_sensor_hourly", "fct_meter_consumption_hourly", "fct_customer_consumption_daily")
    before = {m: mart_rows(warehouse, m) for m in marts}
    state = smartgrid_etl_flow(
        start_time=START + timedelta(days=1),
        end_time=START + timedelta(days=2),
        enable_validation=False,
        return_state=True,
    )
    assert state.is_failed() and "expression_is_true" in str(state.result(raise_on_failure=False))
    assert {m: mart_rows(warehouse, m) for m in marts} == before
    assert scalar(warehouse, "select count(*) from information_schema.tables where table_schema = 'mart_backup'") == 0

    # once the fault is gone, the next run brings every mart up to date
    query(warehouse, "drop trigger corrupt_row on marts.fct_meter_consumption_hourly; select 1")
    assert smartgrid_etl_flow(
        start_time=START + timedelta(days=1), end_time=START + timedelta(days=2), enable_validation=False
    )
    assert_marts_match_the_contract(warehouse)
