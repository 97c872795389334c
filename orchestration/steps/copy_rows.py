"""Rows from the source into a warehouse transaction, by binary COPY: the one way the loaders (loader.py for the
reading tables, network_loader.py for the network tables) move rows. `stage_rows` streams the source rows that
match a predicate into a temporary table `incoming_<table>` (dropped at commit), from which the loader inserts what
raw does not have yet; `copy_into_raw` streams rows raw cannot hold yet straight into raw.<table>, stamped with
the load. Timestamps stay in PostgreSQL, so a value the Python driver cannot represent cannot stop a load.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from orchestration.db.connection import CONNECT_OPTIONS, connection_errors, is_transient
from orchestration.settings import subprocess_environment
from orchestration.steps import copy_reader

log = logging.getLogger(__name__)

READER_SCRIPT = Path(copy_reader.__file__)
READER_EXIT_SECONDS = 5  # after the writing side failed: time for the reader to end on its own, then it is killed
KEEP_SNAPSHOT_WHILE_IDLE = "set local idle_in_transaction_session_timeout = 0"
SECRET_MARKERS = ("PASSWORD", "SECRET", "TOKEN", "WEBHOOK", "API_KEY")  # variables the reader is not given


def begin_source_snapshot(src) -> None:
    """Make the source connection `src` read one snapshot until it commits (REPEATABLE READ, read only), and keep
    that transaction from being ended for waiting idle: it waits while the warehouse works and while a COPY reader
    reads its snapshot (stream_copy)."""
    src.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with src.cursor() as cur:
        cur.execute(KEEP_SNAPSHOT_WHILE_IDLE)


def stage_rows(src_cur, wh_cur, table: str, columns: list[str], predicate: str) -> int:
    """Stream the source rows of `table` matching `predicate` into the temporary table incoming_<table>, with
    raw.<table>'s types for `columns`; the rows copied."""
    names = ", ".join(f'"{c}"' for c in columns)
    wh_cur.execute(f"drop table if exists incoming_{table}")
    wh_cur.execute(f"create temp table incoming_{table} on commit drop as select {names} from raw.{table} with no data")
    return stream_copy(
        src_cur,
        f"copy (select {names} from {table} where {predicate}) to stdout (format binary)",
        wh_cur,
        f"copy incoming_{table} ({names}) from stdin (format binary)",
    )


def copy_into_raw(
    src_cur, wh_cur, table: str, columns: list[str], predicate: str, load_id: str, loaded_at: datetime
) -> int:
    """Stream the source rows of `table` matching `predicate` straight into raw.<table> with the load's id and
    time; the rows copied. A row raw already holds (its unique event_id) fails the whole COPY."""
    names = ", ".join(f'"{c}"' for c in columns)
    stamp = src_cur.mogrify("%s::uuid, %s::timestamptz", (load_id, loaded_at)).decode()
    return stream_copy(
        src_cur,
        f"copy (select {names}, {stamp} from {table} where {predicate}) to stdout (format binary)",
        wh_cur,
        f"copy raw.{table} ({names}, _load_id, _loaded_at) from stdin (format binary)",
    )


def stream_copy(src_cur, copy_out: str, dst_cur, copy_in: str) -> int:
    """Stream `COPY ... TO STDOUT` on the source into `COPY ... FROM STDIN` on another connection.

    The reading side runs in a process of its own (copy_reader.py) on a snapshot that src_cur's transaction exports
    for it, so src_cur must be in an open transaction (the loaders': REPEATABLE READ, read-only, one snapshot per
    table); the reader reads exactly the rows that transaction sees. The transaction waits idle while the reader
    copies: begin_source_snapshot switched its idle-in-transaction timeout off. The rows pass through an OS pipe,
    never all in memory.

    If the reading side fails, its error is raised here before the caller can use the partly filled destination:
    a database error as the psycopg2 class it was, a reader that ended otherwise (killed, say) as an
    OperationalError, which the load task retries; so is a lost connection of either side (error_to_raise,
    _session_lost). If the writing side fails (a unique key raw holds), the driver
    has sent the whole stream before it reads the error, so the reader finishes (tests/test_loader_copies.py, with
    more rows than the pipe holds), and the writing side's error is raised.
    """
    src_cur.execute("select pg_export_snapshot()")
    snapshot = src_cur.fetchone()[0]
    request = {"connect": reader_connect_kwargs(src_cur.connection), "snapshot": snapshot, "copy": copy_out}
    writer_error, killed_here = None, False
    with tempfile.TemporaryFile() as stderr_file:
        command = [sys.executable, "-I", str(READER_SCRIPT)]
        env = _reader_environment()
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr_file, env=env
        ) as reader:
            try:
                reader.stdin.write(json.dumps(request).encode() + b"\n")  # stdin stays open: the loader's sign of life
                reader.stdin.flush()
                dst_cur.copy_expert(copy_in, reader.stdout, size=copy_reader.OUTPUT_BUFFER_BYTES)
            except BaseException as exc:
                writer_error = exc
                reader.stdout.close()  # a reader blocked on the full pipe ends on the broken pipe
                try:
                    reader.wait(READER_EXIT_SECONDS if isinstance(exc, Exception) else 0)
                except subprocess.TimeoutExpired:
                    reader.kill()
                    killed_here = True
                with contextlib.suppress(OSError):  # a reader dead before it read the request
                    reader.stdin.close()
        stderr_file.seek(0)
        stderr = stderr_file.read().decode("utf-8", "replace").strip()
    reader_failed = reader.returncode not in (0, copy_reader.BROKEN_PIPE)
    if reader_failed and _reader_report(stderr) is None:
        log.error("the source COPY's reading process ended with status %s: %s", reader.returncode, stderr[-2000:])
    error = error_to_raise(writer_error, killed_here, reader.returncode, stderr)
    if error is None:
        return dst_cur.rowcount
    if error is writer_error:
        if reader_failed and not killed_here:  # the reader's own error, which the writer's outranks
            log.warning("the source COPY's reading process failed too: %s", stderr[-2000:])
        raise error
    lost = _session_lost(src_cur.connection)  # the reader's error may be a consequence of it
    if lost is not None:
        raise lost from error
    raise error from writer_error


def error_to_raise(
    writer_error: BaseException | None, killed_here: bool, returncode: int, stderr: str
) -> BaseException | None:
    """Which error a copy raises: the writing side's when the reader ended because of it (killed here, or on the
    broken pipe, or after all its rows), when it is no Exception (an interrupt) or a lost connection (retried: the
    reader's error may be its consequence, as when one server holds both databases and restarts); else the
    reader's, when it did not end with status 0."""
    if writer_error is not None and (
        not isinstance(writer_error, Exception)
        or killed_here
        or returncode in (0, copy_reader.BROKEN_PIPE)
        or is_transient(writer_error)
    ):
        return writer_error
    if returncode != 0:
        return _reader_error(returncode, stderr)
    return None


def _session_lost(conn) -> Exception | None:
    """The connection error of the loader's source session, if it was lost while its reader failed (a restart
    between the snapshot's export and its import fails the reader with "invalid snapshot identifier"): then the
    copy fails as a lost connection, which the load task retries."""
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
    except connection_errors() as exc:
        return exc
    except Exception:  # noqa: BLE001 - the session answered: the reader's error stands
        pass
    return None


def reader_connect_kwargs(conn) -> dict:
    """The parameters of the source session `conn` for its reader, password included (it goes on stdin). Over TCP
    the reader connects to the address that session reached, so a host name that resolves to several servers cannot
    send it to one that does not know the snapshot; `host` stays for TLS."""
    info = conn.info
    application = info.parameter_status("application_name") or "smartgrid-loader"
    kwargs = {"host": info.host, "port": info.port, "dbname": info.dbname, "user": info.user,
              "application_name": application, **CONNECT_OPTIONS}  # fmt: skip
    if info.password:
        kwargs["password"] = info.password
    address = _peer_address(conn.fileno())
    if address:
        kwargs["hostaddr"] = address
    return kwargs


def _peer_address(fileno: int) -> str | None:
    """The IP address a session's TCP socket is connected to (with an IPv6 zone); None for a Unix socket."""
    import psycopg2

    try:
        with socket.socket(fileno=os.dup(fileno)) as session_socket:
            if session_socket.family not in (socket.AF_INET, socket.AF_INET6):
                return None
            peer = session_socket.getpeername()
    except OSError as exc:  # the session's connection was reset: as libpq would say, a connection error
        raise psycopg2.OperationalError(f"the source session's socket: {exc}") from exc
    zone = peer[3] if len(peer) == 4 else 0
    return f"{peer[0]}%{zone}" if zone else peer[0]


def _reader_environment() -> dict[str, str]:
    """The pipeline's environment for a child (libpq's variables, Kerberos', OpenSSL's...), less any variable whose
    name says it holds a password, secret, token, webhook or API key: the reader's password comes on stdin."""
    environment = subprocess_environment().items()
    return {key: value for key, value in environment if not any(marker in key.upper() for marker in SECRET_MARKERS)}


def _reader_error(returncode: int, stderr: str) -> Exception:
    """The reader's error: the database error it reported, as that psycopg2 class (by SQLSTATE, else by class
    name); an OperationalError, the kind of a lost connection, when it ended without one (stream_copy logs its
    output, which stays out of the message that the retry condition reads)."""
    import psycopg2
    import psycopg2.errors

    report = _reader_report(stderr)
    if report is None:
        return psycopg2.OperationalError(
            f"the source COPY's reading process ended with status {returncode} (its output is in the log)"
        )
    try:
        kind = psycopg2.errors.lookup(report.get("pgcode") or "")
    except KeyError:
        kind = getattr(psycopg2, str(report.get("class")), None)
    if not (isinstance(kind, type) and issubclass(kind, psycopg2.Error)):
        kind = psycopg2.DatabaseError
    message = report["message"]
    if report.get("pgcode") == "22023" and "snapshot" in message:
        message += (" (the loader's source session ended before its reader imported the snapshot, or the reader's"
                    " session reached another server than the loader's: the source's address must lead every"
                    " connection to one server)")  # fmt: skip
    return kind(message)


def _reader_report(stderr: str) -> dict | None:
    """The database error the reader reported on stderr's last line (copy_reader.py), if it reported one."""
    try:
        report = json.loads(stderr.splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return report if isinstance(report, dict) and "message" in report else None
