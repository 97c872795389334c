"""Rows from the source into a warehouse transaction, by binary COPY: the one way the loaders (loader.py for the
reading tables, network_loader.py for the network tables) move rows. `stage_rows` streams the source rows that
match a predicate into a temporary table `incoming_<table>` (dropped at commit), from which the loader inserts what
raw does not have yet; `copy_into_raw` streams rows raw cannot hold yet straight into raw.<table>, stamped with
the load. Timestamps stay in PostgreSQL, so a value the Python driver cannot represent cannot stop a load.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime


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
    """Stream `COPY ... TO STDOUT` on one connection into `COPY ... FROM STDIN` on another.

    The rows pass through an OS pipe, never all in memory. If the reading side fails, the error is
    raised here before the caller can use the partly filled destination. If the writing side fails (a unique
    key raw holds), the driver has sent the whole stream before it reads the error, so the source's COPY ends
    and its connection stays usable (tests/test_loader_copies.py, with more rows than the pipe holds).
    """
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(write_fd, "wb") as sink:
                src_cur.copy_expert(copy_out, sink, size=1 << 18)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    producer = threading.Thread(target=produce, name="copy-out", daemon=True)
    producer.start()
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            dst_cur.copy_expert(copy_in, pipe, size=1 << 18)
    finally:
        producer.join()
    if errors:
        raise errors[0]
    return dst_cur.rowcount
