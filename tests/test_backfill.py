"""Backfills: a window cut into chunks, and a backfill interrupted after a chunk's load resumes without redoing
finished chunks or losing rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestration.flows.backfill import finished_chunks, parse_chunk, plan_chunks, run_backfill
from tests.helpers import THREE_DAYS_START, assert_marts_match_the_contract, assert_raw_holds_each_source_row_once

START = THREE_DAYS_START


def test_chunks_cover_the_window_exactly():
    assert parse_chunk("6h") == timedelta(hours=6) and parse_chunk("2d") == timedelta(days=2)
    with pytest.raises(ValueError, match="whole number of hours or days"):
        parse_chunk("90m")
    chunks = plan_chunks(START, START + timedelta(hours=50), timedelta(hours=24))
    assert chunks == [
        (START, START + timedelta(hours=24)),
        (START + timedelta(hours=24), START + timedelta(hours=48)),
        (START + timedelta(hours=48), START + timedelta(hours=50)),
    ]


@pytest.mark.slow
def test_an_interrupted_backfill_resumes_without_redoing_chunks_or_losing_rows(settings, three_days, prefect_api):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from orchestration.steps.loader import load_raw

    warehouse, source = three_days
    calls = []

    def run_flow(start, end):
        calls.append(start)
        report = smartgrid_etl_flow(start_time=start, end_time=end, enable_validation=False)
        return True, report

    def crash_after_loading_the_second_chunk(start, end):
        if len(calls) == 1:
            calls.append(start)
            load_raw(warehouse, source, start, end)  # the load commits, then the process "dies" before dbt
            raise KeyboardInterrupt
        return run_flow(start, end)

    end = START + timedelta(days=3)
    with pytest.raises(KeyboardInterrupt):
        run_backfill(warehouse, START, end, timedelta(hours=24), crash_after_loading_the_second_chunk)
    assert len(finished_chunks(warehouse, _backfill(end))) == 1

    calls.clear()
    summary = run_backfill(warehouse, START, end, timedelta(hours=24), run_flow)
    assert calls == [START + timedelta(days=1), START + timedelta(days=2)]  # the finished chunk is skipped
    assert (summary.chunks_skipped, summary.chunks_run) == (1, 2)
    assert_raw_holds_each_source_row_once(warehouse, source)
    assert_marts_match_the_contract(warehouse)


def _backfill(end):
    from orchestration.flows.backfill import backfill_id

    return backfill_id(START, end, timedelta(hours=24))


@pytest.mark.slow
def test_a_first_backfill_creates_the_warehouse_and_names_hours_past_the_retention_horizon(fresh_databases,
                                                                                            prefect_api):  # fmt: skip
    import subprocess
    import sys
    from datetime import datetime

    from orchestration.db.connection import drop_database
    from tests.helpers import harness_env, insert_meter_rows, query, scalar

    warehouse, source = fresh_databases
    hour = datetime(2026, 5, 4, 10)
    insert_meter_rows(source, [dict(event_id=f"m{h}", meter_id="M", customer_id="C", reading=h,
                                    timestamp=hour + timedelta(hours=h)) for h in (0, 1)])  # fmt: skip
    drop_database(warehouse)  # a new warehouse: `smartgrid run` creates it, so does the backfill

    def backfill(start: str, end: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "orchestration.cli", "backfill", "--start", start, "--end", end,
                   "--chunk", "1h", "--no-validation"]  # fmt: skip
        return subprocess.run(command, env=harness_env(), capture_output=True, text=True, timeout=600)

    first = backfill("2026-05-04T10:00", "2026-05-04T12:00")
    assert first.returncode == 0, first.stdout + first.stderr[-2000:]
    assert "2 chunk(s) run, 0 already done (of 2), 2 rows loaded" in first.stdout
    assert scalar(warehouse, "select count(*) from raw.meter_readings") == 2
    # a retention cleanup has deleted raw rows before 11:00 (its horizon, as steps/retention.py records it)
    query(warehouse, "insert into raw.retention (table_name, cleaned_before) values ('meter_readings', "
                     "'2026-05-04 11:00'), ('sensor_data', '2026-05-04 11:00') on conflict (table_name) do update "
                     "set cleaned_before = excluded.cleaned_before; select 1")  # fmt: skip
    older = backfill("2026-05-04T09:00", "2026-05-04T11:00")
    assert older.returncode == 0, older.stdout + older.stderr[-2000:]
    assert "0 chunk(s) run" in older.stdout, older.stdout  # not "done, 0 rows loaded" for hours it cannot load
    assert "2 chunk(s) not loaded: before the retention horizon 2026-05-04T11:00:00" in older.stdout
    assert older.stderr.count(": not loaded: before the") == 2, older.stderr  # each chunk says so (rich wraps it)
