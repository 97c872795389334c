"""How the loader copies rows (steps/loader.py, steps/reconcile.py): each row once, and the rows above the
previous load's highest id straight into raw, or the checked way when raw holds one of them already."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import threading
import time

import psycopg2
import pytest

from orchestration.db.connection import connected
from orchestration.sources import SOURCE_COLUMNS
from orchestration.steps.copy_rows import stage_rows
from orchestration.steps.loader import load_raw, raw_ddl
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


def test_the_reading_process_copies_what_the_source_transaction_sees(fresh_databases):
    """The reading side of a COPY runs in a process of its own (steps/copy_reader.py) on the snapshot that the
    loader's source transaction exports: a row committed after that transaction's first query is not copied."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("seen", "00:10")])
    with connected(source) as src, src.cursor() as src_cur, connected(warehouse) as wh, wh.cursor() as wh_cur:
        wh_cur.execute(raw_ddl())  # stage_rows takes raw.meter_readings' column types
        src.set_session(isolation_level="REPEATABLE READ", readonly=True)
        src_cur.execute("select count(*) from meter_readings")  # the transaction's snapshot: 1 row
        insert_meter_rows(source, [meter("committed later", "00:20")])
        assert stage_rows(src_cur, wh_cur, "meter_readings", SOURCE_COLUMNS["meter_readings"], "true") == 1
        wh_cur.execute("select event_id from incoming_meter_readings")
        assert wh_cur.fetchall() == [("seen",)]


def test_the_password_reaches_the_reading_process_on_stdin_only(fresh_databases, monkeypatch):
    """The reader connects with the source connection's password, which the loader puts in neither its argv (anyone
    on the machine can list a process's argv) nor the environment it gives it."""
    warehouse, source = fresh_databases
    secret = source.password or "a-password-trust-auth-ignores"
    insert_meter_rows(source, [meter("a", "00:10")])
    started = []
    real_popen = subprocess.Popen

    def popen(args, **kwargs):
        added = {key: value for key, value in (kwargs.get("env") or {}).items() if os.environ.get(key) != value}
        started.append((args, added))  # what the loader adds to its own environment
        return real_popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    with (
        connected(dataclasses.replace(source, password=secret)) as src,
        src.cursor() as src_cur,
        connected(warehouse) as wh,
        wh.cursor() as wh_cur,
    ):
        wh_cur.execute(raw_ddl())
        assert stage_rows(src_cur, wh_cur, "meter_readings", SOURCE_COLUMNS["meter_readings"], "true") == 1
    [(args, added)] = started
    assert args[-1] == "orchestration.steps.copy_reader"
    assert not any(secret in arg for arg in args) and not any(secret in value for value in added.values())


def test_a_reading_process_killed_mid_copy_fails_the_load_and_leaves_raw_unchanged(fresh_databases):
    """The reader dies (SIGKILL) after thousands of rows reached the warehouse's COPY: the writer sees the stream end
    early, which a binary COPY may take for its end; the load fails with a connection error, which the load task
    retries, and raw keeps none of the rows."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("first", "00:30")])
    load_raw(warehouse, source, at("00:00"), at("01:00"))
    query(  # 4,000 more rows; the source's COPY sleeps at the 3,500th, with ~350 kB sent
        source,
        "insert into meter_readings (event_id, meter_id, customer_id, reading, unit, timestamp, created_at) "
        "select 'bulk-' || n, 'MB', 'CB', n, 'kWh', %s + n * interval '1 second', %s from generate_series(1, 4000) n;"
        "alter table meter_readings rename to meter_readings_table;"
        "create function waits_at(row_id bigint, slow bigint) returns boolean language plpgsql as $$"
        " begin if current_query() ilike 'copy%%' and row_id = slow then perform pg_sleep(30); end if;"
        " return true; end $$;"
        "create view meter_readings as select * from meter_readings_table"
        " where waits_at(id, (select min(id) + 3500 from meter_readings_table)); select 1",
        (at("01:00"), at("02:00")),
    )
    killed = []

    def kill_the_reader_when_it_waits() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            waiting = query(source, "select count(*) from pg_stat_activity where wait_event = 'PgSleep'")[0][0]
            for pid in _reader_processes() if waiting else []:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_reader_when_it_waits)
    killer.start()
    try:
        with pytest.raises(psycopg2.OperationalError, match="reading process ended with status -9"):
            load_raw(warehouse, source, at("01:00"), at("03:00"))
    finally:
        killer.join()
        query(source, "select pg_terminate_backend(pid) from pg_stat_activity where wait_event = 'PgSleep'")
    assert killed  # the fault landed where it was meant to: while the source's COPY was under way
    assert raw_event_ids(warehouse, "meter_readings") == ["first"]


def _reader_processes() -> list[int]:
    """This process's copy readers (steps/copy_reader.py), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline, open(f"/proc/{entry}/stat") as stat:
                args, ppid = cmdline.read().split(b"\0"), int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"orchestration.steps.copy_reader" in args:
            found.append(int(entry))
    return found
