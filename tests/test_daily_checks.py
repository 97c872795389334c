"""The daily run checks the warehouse's invariants at a cost that follows the day's changes (docs/data-contract.md
§4-§5): it judges the VEE days and checks every meter-hour against its parts since its last pass, records the
pass, and fails (alerting like any failed run) when an invariant breaks; `smartgrid check --full` reads all of
history on demand.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers import ONE_DAY_START, query, scalar

pytestmark = pytest.mark.slow

END = ONE_DAY_START + timedelta(days=1)
BREAK_ONE_HOUR = (
    "update marts.fct_meter_consumption_hourly set consumption_kwh = consumption_kwh + 1 "
    "where (meter_id, hour_start) = (select meter_id, hour_start from marts.fct_meter_consumption_hourly "
    "order by meter_id, hour_start limit 1)"
)

BREAK_ONE_CUSTOMER_DAY = (
    "update marts.fct_customer_consumption_daily set consumption_kwh = consumption_kwh {change} "
    "where (customer_id, day) = (select customer_id, day from marts.fct_customer_consumption_daily "
    "order by customer_id, day limit 1) returning 1"
)


def test_the_daily_run_checks_what_changed_since_its_last_pass_and_fails_on_a_broken_invariant(
    settings, one_day, prefect_api, capsys
):
    from orchestration.cli.checks import check
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, _ = one_day
    daily = smartgrid_etl_flow(start_time=ONE_DAY_START, end_time=END, enable_cleanup=True)
    assert daily.dbt.command == "build --selector daily_run --vars {check_scope: since_last_daily_pass}"
    assert scalar(warehouse, "select count(*) from audit.daily_check_passes") == 1
    # the VEE day checks ran: every simulated meter has its local days judged
    assert scalar(warehouse, "select count(distinct meter_id) from intermediate.int_meter_reading_day_checks") == 3

    # a customer-day that no longer sums its meter-hours (1 kWh added by hand) is found, and named
    query(warehouse, BREAK_ONE_CUSTOMER_DAY.format(change="+ 1"))
    assert check(full=True) == 1
    assert "assert_customer_days_sum_their_meter_hours" in capsys.readouterr().err
    query(warehouse, BREAK_ONE_CUSTOMER_DAY.format(change="- 1"))  # mended: the checks below see only their break

    # one meter-hour built before that pass is broken by hand: its energy no longer equals its interval parts
    query(warehouse, BREAK_ONE_HOUR + " returning 1")
    assert check(full=False) == 0  # what changed since the last pass: nothing, so nothing read, nothing found
    assert check(full=True) == 1  # all of history: found

    # the broken row is built again after the pass (its loaded_through moves past it): the next daily run sees it
    query(
        warehouse,
        BREAK_ONE_HOUR.replace("consumption_kwh = consumption_kwh + 1", "loaded_through = now()") + " returning 1",
    )
    state = smartgrid_etl_flow(start_time=ONE_DAY_START, end_time=END, enable_cleanup=True, return_state=True)
    assert state.is_failed()
    assert "assert_meter_hours_sum_their_parts" in str(state.message) + str(state.result(raise_on_failure=False))
    assert scalar(warehouse, "select count(*) from audit.daily_check_passes") == 1  # a failed pass is not recorded
