"""The reading side of the loaders' binary COPY, in a process of its own: `python -m orchestration.steps.copy_reader`.

psycopg2 hands each row of a `COPY ... TO STDOUT` to Python separately, so a reading side in the flow's process
needed the interpreter lock once per row, shared there with the background imports of dbt and Great Expectations
(steps/background_imports.py) and with the other table's copy. In its own process the reading side has an
interpreter to itself; the writing side, in the flow's process, reads the rows 256 kB at a time (copy_rows.py).

The request comes as JSON on stdin, never in argv or the environment, since it holds the password: the source's
connection parameters, the snapshot that the loader's source transaction exported, and the COPY statement. The rows
go to stdout. On a database error the process writes the error's class, SQLSTATE and message as JSON to stderr and
exits with status 1.
"""

from __future__ import annotations

import json
import sys

OUTPUT_BUFFER = 1 << 18


def main() -> int:
    request = json.load(sys.stdin)
    import psycopg2

    try:
        conn = psycopg2.connect(**request["connect"], connect_timeout=10, options="-c timezone=UTC")
        try:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cur, open(sys.stdout.fileno(), "wb", OUTPUT_BUFFER, closefd=False) as rows:
                cur.execute("set transaction snapshot %s", (request["snapshot"],))  # the loader's snapshot
                cur.copy_expert(request["copy"], rows)
        finally:
            conn.close()
    except psycopg2.Error as exc:
        json.dump({"class": type(exc).__name__, "pgcode": exc.pgcode, "message": str(exc).strip()}, sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
