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
