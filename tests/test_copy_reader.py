"""The reading side of the loaders' COPY, a process of its own (steps/copy_reader.py, started by
steps/copy_rows.py): it reads the loader's snapshot, gets the password on stdin only, ends with the loader, and a
reader that fails fails the load before anything of it reaches raw."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from orchestration.db.connection import connected
from orchestration.sources import SOURCE_COLUMNS
from orchestration.steps import copy_reader, copy_rows
from orchestration.steps.copy_rows import (
    READER_SCRIPT,
    begin_source_snapshot,
    reader_connect_kwargs,
    stage_rows,
    stream_copy,
)
from orchestration.steps.loader import load_raw, raw_ddl
from tests.faults import wait_for
from tests.helpers import at, insert_meter_rows, query, scalar
from tests.loader_rows import meter, raw_event_ids
from tests.prefect_ops import descendants

# the source's meter_readings behind a view whose COPY sleeps at the 3,500th of 4,000 new rows (~350 kB sent)
SLOW_SOURCE = (
    "insert into meter_readings (event_id, meter_id, customer_id, reading, unit, timestamp, created_at) "
    "select 'bulk-' || n, 'MB', 'CB', n, 'kWh', %s + n * interval '1 second', %s from generate_series(1, 4000) n;"
    "alter table meter_readings rename to meter_readings_table;"
    "create function waits_at(row_id bigint, slow bigint, seconds float) returns boolean language plpgsql as $$"
    " begin if current_query() ilike 'copy%%' and row_id = slow then perform pg_sleep(seconds); end if;"
    " return true; end $$;"
    "create view meter_readings as select * from meter_readings_table"
    " where waits_at(id, (select min(id) + 3500 from meter_readings_table), {seconds}); select 1"
)


SLEEPING = "from pg_stat_activity where wait_event = 'PgSleep' and datname = %s"  # the source's sleeping sessions


def slow_source(source, seconds: float) -> None:
    query(source, SLOW_SOURCE.format(seconds=seconds), (at("01:00"), at("02:00")))


def sleeping_sessions(source) -> int:
    return scalar(source, f"select count(*) {SLEEPING}", (source.dbname,))


def end_sleeping_sessions(source) -> None:
    query(source, f"select pg_terminate_backend(pid) {SLEEPING}", (source.dbname,))


def test_the_reading_process_copies_what_the_source_transaction_sees(fresh_databases):
    """The reader runs on the snapshot that the loader's source transaction exports: a row committed after that
    transaction's first query is not copied."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("seen", "00:10")])
    with connected(source) as src, src.cursor() as src_cur, connected(warehouse) as wh, wh.cursor() as wh_cur:
        wh_cur.execute(raw_ddl())  # stage_rows takes raw.meter_readings' column types
        begin_source_snapshot(src)
        src_cur.execute("select count(*) from meter_readings")  # the transaction's snapshot: 1 row
        insert_meter_rows(source, [meter("committed later", "00:20")])
        assert stage_rows(src_cur, wh_cur, "meter_readings", SOURCE_COLUMNS["meter_readings"], "true") == 1
        wh_cur.execute("select event_id from incoming_meter_readings")
        assert wh_cur.fetchall() == [("seen",)]


def test_the_password_reaches_the_reading_process_on_stdin_only(fresh_databases, monkeypatch):
    """The reader connects with the source session's password, which is in neither its argv (anyone on the machine
    can list a process's argv) nor its environment, even where the pipeline's own environment holds it."""
    warehouse, source = fresh_databases
    secret = source.password or "a-password-trust-auth-ignores"
    for variable in ("SOURCE_POSTGRES_PASSWORD", "SMARTGRID_LOADER_PASSWORD"):  # not PGPASSWORD: the test's own
        monkeypatch.setenv(variable, secret)  # sessions would take it (from ~/.pgpass, say)
    insert_meter_rows(source, [meter("a", "00:10")])
    started = []
    real_popen = subprocess.Popen

    def popen(args, **kwargs):
        started.append((args, kwargs["env"]))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    with connected(dataclasses.replace(source, password=secret)) as src, connected(warehouse) as wh:
        assert reader_connect_kwargs(src)["password"] == secret  # what goes on stdin
        with src.cursor() as src_cur, wh.cursor() as wh_cur:
            wh_cur.execute(raw_ddl())
            assert stage_rows(src_cur, wh_cur, "meter_readings", SOURCE_COLUMNS["meter_readings"], "true") == 1
    [(args, env)] = started
    assert args[-1] == str(READER_SCRIPT)
    assert not any(secret in arg for arg in args) and not any(secret in value for value in env.values())


def test_a_reading_process_killed_mid_copy_fails_the_load_and_leaves_raw_unchanged(fresh_databases):
    """The reader dies (SIGKILL) while the source's COPY is under way: the writer sees the stream end early, which a
    binary COPY may take for its end; the load fails with a connection error, which the load task retries, and raw
    keeps none of the rows."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("first", "00:30")])
    load_raw(warehouse, source, at("00:00"), at("01:00"))
    slow_source(source, 30)
    killed = []

    def kill_the_reader_when_it_waits() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            for pid in _reader_processes() if sleeping_sessions(source) else []:
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
        end_sleeping_sessions(source)
    assert killed  # the fault landed where it was meant to: while the source's COPY was under way
    assert raw_event_ids(warehouse, "meter_readings") == ["first"]


def test_a_reading_process_ends_when_its_loader_is_gone(fresh_databases):
    """The flow's process dies mid-copy: the reader's stdin ends, and the reader cancels its COPY on the source and
    ends, instead of reading the source (holding its snapshot) for nobody."""
    warehouse, source = fresh_databases
    slow_source(source, 30)
    with connected(source) as src, src.cursor() as src_cur:
        begin_source_snapshot(src)
        src_cur.execute("select pg_export_snapshot()")
        request = {"connect": reader_connect_kwargs(src), "snapshot": src_cur.fetchone()[0],
                   "copy": "copy (select * from meter_readings) to stdout (format binary)"}  # fmt: skip
        command = [sys.executable, "-I", str(READER_SCRIPT)]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL) as reader:
            reader.stdin.write(json.dumps(request).encode() + b"\n")
            reader.stdin.flush()
            try:
                wait_for(lambda: reader.poll() is None and sleeping_sessions(source) == 1, "its COPY under way", 20)
                reader.stdin.close()  # what the loader's death does to it
                assert reader.wait(10) == copy_reader.LOADER_GONE
                wait_for(lambda: sleeping_sessions(source) == 0, "its COPY cancelled, not left running", 5)
            finally:
                reader.kill()
                end_sleeping_sessions(source)


def test_a_copy_longer_than_the_sources_idle_transaction_timeout_loads(fresh_databases):
    """The loader's source session waits idle in its transaction while the reader copies: a source whose
    idle_in_transaction_session_timeout is shorter than the copy does not end it."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [meter("first", "00:30")])
    load_raw(warehouse, source, at("00:00"), at("01:00"))
    slow_source(source, 1.5)
    query(source, f"alter database {source.dbname} set idle_in_transaction_session_timeout = '500ms'; select 1")
    assert load_raw(warehouse, source, at("01:00"), at("03:00")).rows_loaded == 4000


def test_a_copy_whose_writing_side_fails_first_raises_the_warehouses_error(fresh_databases, monkeypatch):
    """The warehouse refuses the COPY before reading a row (no such table) while the reader has more than the pipe
    holds to write: the reader ends on the broken pipe, and the warehouse's error is raised (no retry), not a
    reader's."""
    warehouse, source = fresh_databases
    slow_source(source, 0)  # 4,000 rows, ~400 kB
    readers = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        readers.append(real_popen(*args, **kwargs))
        return readers[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    with connected(source) as src, src.cursor() as src_cur, connected(warehouse) as wh, wh.cursor() as wh_cur:
        begin_source_snapshot(src)
        with pytest.raises(psycopg2.errors.UndefinedTable):
            stream_copy(src_cur, "copy (select * from meter_readings) to stdout (format binary)",
                        wh_cur, "copy no_such_table from stdin (format binary)")  # fmt: skip
    [reader] = readers
    assert reader.returncode == copy_reader.BROKEN_PIPE  # it ended on the broken pipe, was not killed


def test_the_reader_connects_to_the_address_the_loaders_session_reached():
    """Over TCP the reader gets the peer address of the loader's own session as hostaddr (a name that resolves to
    several servers cannot send it elsewhere); over a Unix socket, none. The session's socket is left working."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    unix_end, other_end = socket.socketpair()
    try:
        assert copy_rows._peer_address(client.fileno()) == "127.0.0.1"
        assert copy_rows._peer_address(unix_end.fileno()) is None
        client.sendall(b"still open")
        assert accepted.recv(10) == b"still open"
    finally:
        for open_socket in (listener, client, accepted, unix_end, other_end):
            open_socket.close()


def _reader_processes() -> list[int]:
    """This process's copy readers (steps/copy_reader.py)."""
    return [pid for pid in descendants(os.getpid()) if str(READER_SCRIPT).encode() in _arguments(pid)]


def _arguments(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # ended meanwhile
        return []
