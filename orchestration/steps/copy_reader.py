"""The reading side of the loaders' binary COPY, in a process of its own (copy_rows.stream_copy starts this file).

psycopg2 hands each row of a `COPY ... TO STDOUT` to Python separately, so a reading side in the flow's process
needed the interpreter lock once per row, shared there with the background imports of dbt and Great Expectations
(steps/background_imports.py) and with the other table's copy. In its own process the reading side has an
interpreter to itself; the writing side, in the flow's process, reads the rows 256 kB at a time (copy_rows.py).

The request comes as one JSON line on stdin, never in argv or the environment, since it holds the password: the
connection parameters of the loader's source session, the snapshot its transaction exported, and the COPY
statement. The rows go to stdout. After the request, stdin stays open as the loader's sign of life: when it ends
(the flow's process died), this process cancels its COPY on the source and ends, instead of reading for nobody.
Exit status:
- 0: every row written;
- 1: a database error, reported on stderr's last line as JSON (its class, SQLSTATE and message), or a crash
  (a Python traceback on stderr);
- BROKEN_PIPE: the loader stopped reading the rows (its COPY into the warehouse failed);
- LOADER_GONE: stdin ended before the rows did.
This file imports nothing of the project, so the process runs the same code whatever its working directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading

OUTPUT_BUFFER_BYTES = 1 << 18
BROKEN_PIPE = 3
LOADER_GONE = 4


_sessions: list = []  # the session to cancel when the loader is gone


def main() -> int:
    request = _read_request()
    threading.Thread(target=_end_with_the_loader, daemon=True).start()
    import psycopg2

    try:
        conn = psycopg2.connect(**request["connect"])
        _sessions.append(conn)
        try:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cur, open(sys.stdout.fileno(), "wb", OUTPUT_BUFFER_BYTES, closefd=False) as rows:
                cur.execute("set transaction snapshot %s", (request["snapshot"],))  # the loader's snapshot
                cur.copy_expert(request["copy"], rows)
        finally:
            conn.close()
    except psycopg2.Error as exc:
        sys.stderr.write(json.dumps(error_report(exc)) + "\n")
        return 1
    except BrokenPipeError:
        return BROKEN_PIPE
    return 0


def error_report(exc) -> dict:
    """What the loader learns of a database error: its class, SQLSTATE and message (copy_rows raises it again as
    that class; which errors the load task retries is connection.is_transient's decision)."""
    return {"class": type(exc).__name__, "pgcode": exc.pgcode, "message": str(exc).strip()}


def _read_request() -> dict:
    """The request's line, read from file descriptor 0 itself: sys.stdin's buffer would hold its lock in the thread
    that waits for stdin to end, and the interpreter's shutdown waits for that lock."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        line += chunk
    return json.loads(line)


def _end_with_the_loader() -> None:
    """Block until stdin ends; then cancel the source's COPY (its session would run on until it next sends rows)
    and end the process. The loader closes stdin only after the rows ended."""
    while os.read(0, 1 << 16):
        pass
    for session in _sessions:
        with contextlib.suppress(Exception):
            session.cancel()
    os._exit(LOADER_GONE)


if __name__ == "__main__":
    sys.exit(main())
