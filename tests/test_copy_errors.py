"""Which error a loader's COPY raises when a side of it fails (steps/copy_rows.py, steps/copy_reader.py): a lost
connection on either side is raised as one, which the load task retries; a database's refusal keeps its class."""

from __future__ import annotations

import json

import psycopg2
import pytest

from orchestration.db.connection import connect, connected, is_transient
from orchestration.steps import copy_reader, copy_rows
from orchestration.steps.copy_rows import begin_source_snapshot, error_to_raise, stream_copy
from tests.helpers import query


def test_which_error_a_copy_raises():
    """The writer's error when the reader ended because of it, is fine, or the writer lost its connection; else the
    reader's."""
    unique = psycopg2.errors.UniqueViolation("duplicate key")
    report = json.dumps({"class": "RaiseException", "pgcode": "P0001", "message": "source failed"})
    assert error_to_raise(None, False, 0, "") is None
    assert error_to_raise(unique, False, 0, "") is unique  # the reader sent every row first
    assert error_to_raise(unique, True, -9, "") is unique  # killed here, after the writer failed
    assert error_to_raise(unique, False, copy_reader.BROKEN_PIPE, "") is unique
    interrupt = KeyboardInterrupt()
    assert error_to_raise(interrupt, False, 1, report) is interrupt
    raised = error_to_raise(None, False, 1, report)  # the source failed mid-copy: the writer may have seen no error
    assert type(raised) is psycopg2.errors.RaiseException and str(raised) == "source failed"
    bad_format = psycopg2.errors.BadCopyFileFormat("unexpected EOF")
    for status, output in ((-9, ""), (1, "Traceback ...\nModuleNotFoundError: psycopg2")):  # killed elsewhere; crashed
        raised = error_to_raise(bad_format, False, status, output)
        assert type(raised) is psycopg2.OperationalError and f"ended with status {status}" in str(raised)
    lost = psycopg2.OperationalError("server closed the connection unexpectedly")  # one server holds both, restarts
    assert error_to_raise(lost, False, 1, report) is lost
    unknown = json.dumps({"class": "OperationalError", "pgcode": "58X99", "message": "new code"})
    assert type(error_to_raise(None, False, 1, unknown)) is psycopg2.OperationalError


def test_an_error_that_libpq_ended_without_a_message_is_retried(fresh_databases):
    """libpq can end a statement cut by a server's restart with no message at all; psycopg2 then raises a bare
    DatabaseError without SQLSTATE (seen in CI, in a COPY reader). is_transient retries it, raised in the flow's own
    sessions or from a reader's report alike; a server's error (also as raised again from a reader's report, without
    its SQLSTATE) and a misuse of the driver are not retried."""
    lost = psycopg2.DatabaseError("error with status PGRES_COPY_OUT and no message from the libpq")
    assert is_transient(lost)
    raised = error_to_raise(None, False, 1, json.dumps(copy_reader.error_report(lost)))
    assert type(raised) is psycopg2.DatabaseError and is_transient(raised)
    assert not is_transient(psycopg2.ProgrammingError("no results to fetch"))
    with connected(fresh_databases[1]) as conn, conn.cursor() as cur, pytest.raises(psycopg2.Error) as refused:
        cur.execute("select 1/0")  # a server's error
    report = copy_reader.error_report(refused.value)
    assert report == {"class": "DivisionByZero", "pgcode": "22012", "message": "division by zero"}
    raised = error_to_raise(None, False, 1, json.dumps(report))
    assert type(raised) is psycopg2.errors.DivisionByZero and not is_transient(raised)


def test_a_source_session_lost_before_its_reader_imports_the_snapshot_fails_as_a_lost_connection(
    fresh_databases, monkeypatch
):
    """The loader's source session ends (a restart, say) after exporting its snapshot and before the reader imports
    it: the reader fails with "invalid snapshot identifier", which waiting would fix. The copy raises the session's
    connection error, which the load task retries, with the reader's error as its cause."""
    warehouse, source = fresh_databases
    connect_kwargs = copy_rows.reader_connect_kwargs

    def lose_the_session_then_connect(conn):
        query(source, "select pg_terminate_backend(%s, 5000)", (conn.info.backend_pid,))  # the fault, at that moment
        return connect_kwargs(conn)

    monkeypatch.setattr(copy_rows, "reader_connect_kwargs", lose_the_session_then_connect)
    src = connect(source)  # not `connected`: it would commit on the lost session
    try:
        begin_source_snapshot(src)
        with src.cursor() as src_cur, connected(warehouse) as wh, wh.cursor() as wh_cur:
            wh_cur.execute("create temp table copied (n int)")
            with pytest.raises(psycopg2.OperationalError) as lost:
                stream_copy(src_cur, "copy (select 1) to stdout (format binary)",
                            wh_cur, "copy copied from stdin (format binary)")  # fmt: skip
    finally:
        src.close()
    assert is_transient(lost.value)
    assert isinstance(lost.value.__cause__, psycopg2.errors.InvalidParameterValue), repr(lost.value.__cause__)
    assert "snapshot" in str(lost.value.__cause__)
