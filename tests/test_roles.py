"""Least privilege (orchestration/db/roles.py): the whole flow runs with the loader, transformer and source-reader
roles, and each role can do its job and nothing else."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta

import psycopg2
import pytest

from orchestration.db.roles import ANALYST, LOADER, SOURCE_READER, TRANSFORMER, init_roles
from orchestration.local.simulator import SimulationConfig, simulate
from orchestration.report.views import ensure_views
from tests.helpers import (
    assert_marts_match_the_contract,
    assert_raw_holds_each_source_row_once,
    insert_meter_rows,
    query,
)

START = datetime(2026, 3, 2, 6)


def _as(target, role):
    return replace(target, user=role, password=None)  # the embedded server trusts local connections


def _denied(target, role, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query(_as(target, role), statement + "; select 1")


@pytest.mark.slow
def test_the_flow_runs_with_least_privilege_roles(settings, fresh_databases, prefect_api, monkeypatch):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = fresh_databases
    simulate(source, START, START + timedelta(hours=3), SimulationConfig(3, 1, 11, 0.03), now=START + timedelta(days=1))
    planted = {"event_id": "roles-unknown-unit", "meter_id": "MR", "customer_id": "CR", "reading": 1, "unit": "kVArh",
               "timestamp": START + timedelta(minutes=30)}  # fmt: skip
    insert_meter_rows(source, [planted])  # a reading the analyst must find among the rejected ones
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "db", "init-roles"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "roles ready" in done.stderr, done.stderr
    monkeypatch.setenv("POSTGRES_USER", TRANSFORMER)
    monkeypatch.setenv("SMARTGRID_LOADER_USER", LOADER)
    monkeypatch.setenv("SOURCE_POSTGRES_USER", SOURCE_READER)
    result = smartgrid_etl_flow(start_time=START, end_time=START + timedelta(hours=3))
    assert result.load.rows_loaded > 0 and result.dbt.success and result.checkpoint.success
    # who wrote what: raw by the loader, the marts and the audit tables by the transformer
    assert query(
        warehouse,
        "select schemaname, tableowner from pg_tables "
        "where schemaname in ('raw', 'marts', 'audit') group by 1, 2 order by 1",
    ) == [("audit", TRANSFORMER), ("marts", TRANSFORMER), ("raw", LOADER)]
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)
    # the analyst reads the rejected readings, all of them: the same rows the owner sees, the planted one included
    rejected = "select source_table, event_id, reason_code from audit.rejected_readings order by 1, 2"
    assert query(_as(warehouse, ANALYST), rejected) == query(warehouse, rejected)
    assert ("meter_readings", "roles-unknown-unit", "unknown_unit") in query(warehouse, rejected)

    # a second run (dbt recreates the audit view) keeps every grant; its retention cleanup runs as the loader
    # and deletes all of raw (older than 90 days); init-roles can run again
    init_roles(settings, warehouse, source)
    again = smartgrid_etl_flow(
        start_time=START + timedelta(hours=2), end_time=START + timedelta(hours=3), enable_cleanup=True
    )
    assert sum(again.cleanup.rows_deleted.values()) > 0
    assert query(warehouse, "select count(*) from raw.sensor_data") == [(0,)]

    # the analyst reads the marts ...
    analyst = _as(warehouse, ANALYST)
    assert query(analyst, "select count(*) from marts.fct_meter_consumption_hourly")[0][0] > 0
    # ... and the grid report's views, which dbt (re)creates as the transformer (the flow's report task did already):
    # the same hours and energy as the mart
    ensure_views(settings.model_copy(update={"postgres_user": TRANSFORMER}), _as(warehouse, TRANSFORMER))
    assert query(warehouse, "select distinct viewowner from pg_views where schemaname = 'reports'") == [(TRANSFORMER,)]
    fleet = "select count(*), sum(vee_kwh) from reports.rpt_fleet_energy_hourly"
    mart = "select count(distinct hour_start), sum(vee_kwh) from marts.fct_meter_consumption_hourly_vee"
    assert query(analyst, fleet) == query(warehouse, mart) and query(analyst, fleet)[0][0] == 3  # 3 hours simulated
    # ... and nothing else
    _denied(warehouse, ANALYST, "select count(*) from raw.meter_readings")
    _denied(warehouse, ANALYST, "select count(*) from audit.dq_run_results")
    _denied(warehouse, ANALYST, "select count(*) from intermediate.int_meter_readings_validated")
    _denied(warehouse, ANALYST, "delete from marts.fct_meter_consumption_hourly")
    _denied(warehouse, ANALYST, "create table marts.mine (x int)")
    # the loader writes raw only; the transformer reads raw but cannot change it
    _denied(warehouse, LOADER, "select count(*) from marts.fct_sensor_hourly")
    _denied(warehouse, LOADER, "select count(*) from intermediate.int_sensor_readings_validated")
    _denied(warehouse, TRANSFORMER, "delete from raw.sensor_data")
    _denied(warehouse, TRANSFORMER, "insert into raw.load_log select * from raw.load_log")
    # the source role only selects
    _denied(source, SOURCE_READER, "delete from sensor_data")
    _denied(source, SOURCE_READER, "create table public.mine (x int)")
    assert query(_as(source, SOURCE_READER), "select count(*) from meter_readings")[0][0] > 0
