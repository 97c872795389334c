"""How the loader copies rows (steps/loader.py, steps/reconcile.py): each row once, and the rows above the
previous load's highest id straight into raw, or the checked way when raw holds one of them already."""

from __future__ import annotations

from orchestration.steps.loader import load_raw
from tests.helpers import at, insert_meter_rows, query, scalar
from tests.loader_rows import meter, raw_event_ids


def test_each_row_is_copied_once_late_rows_do_not_copy_their_hour_again(fresh_databases):
    """The rows above the previous load's highest id first, then an hour that still differs without them
    (steps/reconcile.py); before, each changed hour was copied whole: 20 rows for these 8."""
    warehouse, source = fresh_databases
    # ids 1-12 in hour 01; id 13 in hour 02, in the source already but past the first window's end
    insert_meter_rows(source, [meter(f"h1-{m}", f"01:{m:02d}") for m in range(0, 60, 5)] + [meter("h2", "02:01")])
    assert load_raw(warehouse, source, at("01:00"), at("02:00")).rows_loaded == 12
    # ids 14-18: hour 02's other rows; 19, 20: late rows for hour 01
    later = [meter(f"h2-{m}", f"02:{m}") for m in (10, 20, 30, 40, 50)]
    insert_meter_rows(source, later + [meter("late-a", "01:03"), meter("late-b", "01:07")])
    second = load_raw(warehouse, source, at("02:00"), at("03:00")).tables["meter_readings"]
    assert (second.rows_copied, second.rows_loaded) == (8, 8)  # the 7 above id 13, then hour 02 without them: id 13
    assert second.changed_hours == [at("02:00").isoformat()]  # hour 01: the same 14 rows and ids on both sides


def test_new_rows_raw_already_holds_are_copied_the_checked_way(fresh_databases):
    """The source deleted a row and inserted it again under a new id: the straight COPY into raw meets its event_id
    (a unique violation) and the load copies the new rows into a temporary table and inserts what raw lacks."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("kept", "00:10"), meter("other", "00:20")])  # ids 1, 2
    assert load_raw(warehouse, source, at("00:00"), at("01:00")).rows_loaded == 2
    query(source, "delete from meter_readings where event_id = 'kept'; select 1")
    insert_meter_rows(source, [meter("kept", "00:10"), meter("new", "00:40")])  # ids 3, 4: above the load's 2
    query(  # ids 5-3004, ~300 kB: more than an OS pipe holds, so the source is still sending when the COPY fails
        source,
        "insert into meter_readings (event_id, meter_id, customer_id, reading, unit, timestamp, created_at) "
        "select 'bulk-' || n, 'MB', 'CB', n, 'kWh', %s + n * interval '1 second', %s from generate_series(1, 3000) n;"
        "select 1",
        (at("00:00"), at("01:00")),
    )
    second = load_raw(warehouse, source, at("00:00"), at("01:00")).tables["meter_readings"]
    # ids 3-3004 copied ("kept", id 3, refused); then hour 00, which still differs, without them: id 2, refused
    assert (second.rows_copied, second.rows_loaded, second.hours_copied) == (3003, 3001, 1)
    assert raw_event_ids(warehouse, "meter_readings")[-3:] == ["kept", "new", "other"]
    assert scalar(warehouse, "select id from raw.meter_readings where event_id = 'kept'") == 1  # the first copy
    # the fingerprints count what raw holds: hour 00 has ids 1, 2, 4-3004 (the source's 2-3004 differ: its hour is
    # compared again on every load, and copies nothing raw lacks)
    assert query(warehouse, "select row_count, id_sum from raw.hour_fingerprints where table_name = 'meter_readings'")\
        == [(3003, 1 + 2 + sum(range(4, 3005)))]  # fmt: skip


def test_the_straight_copy_counts_its_rows_into_the_fingerprints(fresh_databases):
    """Rows copied straight into raw reach raw.hour_fingerprints per hour, so the next load finds their hours
    unchanged; with a row late for an earlier hour, that hour's fingerprint grows by it."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("a", "01:00"), meter("b", "01:30")])  # ids 1, 2
    load_raw(warehouse, source, at("01:00"), at("02:00"))
    insert_meter_rows(source, [meter("c", "02:15"), meter("late", "01:45"), meter("d", "02:45")])  # ids 3, 4, 5
    second = load_raw(warehouse, source, at("02:00"), at("03:00")).tables["meter_readings"]
    assert (second.rows_copied, second.rows_loaded, second.hours_copied) == (3, 3, 0)
    fingerprints = query(
        warehouse,
        "select hour, row_count, id_sum from raw.hour_fingerprints where table_name = 'meter_readings' order by 1",
    )
    assert fingerprints == [(at("01:00"), 3, 1 + 2 + 4), (at("02:00"), 2, 3 + 5)]
    third = load_raw(warehouse, source, at("02:00"), at("03:00")).tables["meter_readings"]
    assert (third.rows_copied, third.hours_copied) == (0, 0)
