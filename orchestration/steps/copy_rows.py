"""Rows from the source into a warehouse transaction, by binary COPY: the one way the loaders (loader.py for the
reading tables, network_loader.py for the network tables) move rows. `stage_rows` streams the source rows that
match a predicate into a temporary table `incoming_<table>` (dropped at commit), from which the loader inserts what
raw does not have yet; `copy_into_raw` streams rows raw cannot hold yet straight into raw.<table>, stamped with
the load. Timestamps stay in PostgreSQL, so a value the Python driver cannot represent cannot stop a load.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import datetime

from orchestration.settings import subprocess_environment


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

    The reading side runs in a process of its own (copy_reader.py) on a snapshot that src_cur's transaction
    exports for it: it reads exactly the rows that transaction sees. The rows pass through an OS pipe, never all in
    memory. If the reading side fails, its error is raised here, as the psycopg2 error it was, before the caller can
    use the partly filled destination. If the writing side fails (a unique key raw holds), the driver has sent the
    whole stream before it reads the error, so the reader finishes (tests/test_loader_copies.py, with more rows
    than the pipe holds); the writing side's error is raised.
    """
    src_cur.execute("select pg_export_snapshot()")
    request = {"connect": _connect_kwargs(src_cur.connection), "snapshot": src_cur.fetchone()[0], "copy": copy_out}
    with tempfile.TemporaryFile() as reader_errors:
        reader = subprocess.Popen(
            [sys.executable, "-m", "orchestration.steps.copy_reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=reader_errors,
            env=subprocess_environment(),  # the password is on stdin, never here
        )
        writer_error, killed_here = None, False
        try:
            with reader.stdin:
                reader.stdin.write(json.dumps(request).encode())
            with reader.stdout:
                dst_cur.copy_expert(copy_in, reader.stdout, size=1 << 18)
        except BaseException as exc:
            writer_error = exc
            if reader.poll() is None:  # it may be blocked on a full pipe
                reader.kill()
                killed_here = True
        returncode = reader.wait()
        reader_errors.seek(0)
        output = reader_errors.read().decode("utf-8", "replace").strip()
    report = _reader_report(output)
    if writer_error is not None and report is None and (killed_here or returncode >= 0):
        raise writer_error  # the reader ended for it: killed here, or on the broken pipe
    if returncode != 0:  # a truncated stream may have ended the writer's COPY without an error
        raise _reader_error(returncode, report, output) from writer_error
    return dst_cur.rowcount


def _connect_kwargs(conn) -> dict:
    """The parameters the reader connects with: those of src_cur's connection, password included (sent on stdin)."""
    info = conn.info
    kwargs = {"host": info.host, "port": info.port, "dbname": info.dbname, "user": info.user,
              "application_name": info.parameter_status("application_name") or "smartgrid-loader"}  # fmt: skip
    if info.password:
        kwargs["password"] = info.password
    return kwargs


def _reader_report(output: str) -> dict | None:
    """The database error the reader reported on stderr (copy_reader.py), if it reported one."""
    try:
        report = json.loads(output.splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return report if isinstance(report, dict) and "message" in report else None


def _reader_error(returncode: int, report: dict | None, output: str) -> Exception:
    """The reading side's error as the psycopg2 error it was (by SQLSTATE, else by class); an OperationalError, the
    kind of a lost connection, when the reader ended without a report (killed, or failed to start)."""
    import psycopg2
    import psycopg2.errors

    if report is None:
        return psycopg2.OperationalError(
            f"the source COPY's reading process ended with status {returncode}: {output[-2000:]}"
        )
    try:
        kind = psycopg2.errors.lookup(report["pgcode"]) if report.get("pgcode") else getattr(psycopg2, report["class"])
    except (KeyError, AttributeError):
        kind = psycopg2.DatabaseError
    return kind(report["message"])
