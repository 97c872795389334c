"""The daily run's reconciliation at bounded cost (docs/data-contract.md §2): the recent span every day, and a
rolling sweep that compares each older retained day once in any SMARTGRID_RECONCILE_SWEEP_RUNS daily runs, so a
row committed late with an old id into an old hour is found within that many runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestration.steps.loader import load_raw
from orchestration.steps.reconcile import DailySweep
from tests.helpers import at, insert_meter_rows
from tests.loader_rows import meter, raw_event_ids


def test_the_daily_sweep_finds_an_old_row_with_an_old_id_within_sweep_runs_daily_runs(fresh_databases):
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("m1", "-6 10:00", id=100), meter("m2", "23:00", id=101)])
    load_raw(warehouse, source, at("23:00"), at("+1 00:00"))  # the first load compares every hour
    # committed late with an id below one raw already saw, for 2026-03-07, days before any recent span: no hourly
    # load finds it (not above the previous id, not in the last reconcile_hours)
    insert_meter_rows(source, [meter("m-old", "-3 10:30", id=7)])
    assert load_raw(warehouse, source, at("+1 00:00"), at("+1 01:00")).rows_loaded == 0
    sweep = DailySweep(recent_hours=24, sweep_runs=3, retention_days=90)
    runs = [load_raw(warehouse, source, at(f"+{d} 23:00"), at(f"+{d + 1} 00:00"), daily=sweep) for d in (1, 2, 3)]
    # Daily run k (0, 1, 2) compares the older days whose number (days since 1970-01-01) is k modulo 3. By hand:
    # 2026-03-10 is day 56 * 365 + 14 leap days + 31 + 28 + 9 = 20522, 20522 = 3 * 6840 + 2; 2026-03-07 is 20519, 2.
    # So run 0 (ends 03-12) compares 03-08, 03-05, 03-02 ...; run 1 03-09, 03-06 ...; run 2 03-10, 03-07 ...
    assert [run.rows_loaded for run in runs] == [0, 0, 1]
    swept = [run.tables["meter_readings"].swept_days for run in runs]
    assert swept[0][-3:] == ["2026-03-02", "2026-03-05", "2026-03-08"]
    assert swept[2][-2:] == ["2026-03-07", "2026-03-10"]
    # run 0's older days: 2025-12-12 (03-12 minus 90 days) .. 2026-03-10 (03-11 is its recent span), 89 days, day
    # numbers 20434 .. 20522; those = 0 modulo 3 are 20436 .. 20520, 29 of them: a third of retention, not all
    assert len(swept[0]) == 29 and runs[0].tables["meter_readings"].reconciled_from == at("+1 00:00").isoformat()
    # every day older in all three runs (2025-12-14, run 2's floor, .. 2026-03-10) was compared by one of them
    older_in_all = {(datetime(2025, 12, 14) + timedelta(days=n)).date().isoformat() for n in range(87)}
    assert older_in_all <= set(swept[0]) | set(swept[1]) | set(swept[2])
    assert raw_event_ids(warehouse, "meter_readings") == ["m-old", "m1", "m2"]
