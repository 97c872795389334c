"""`smartgrid backfill`: run the flow over a long window in chunks, with progress, resumable.

Each chunk is one smartgrid_etl_flow run (one flow run in the Prefect UI). A chunk is recorded in
`audit.backfill_progress` only after its run succeeded, so an interrupted backfill resumes at the first
unfinished chunk when the same command is run again. Re-running a chunk is always safe: the load is
exactly-once and the marts rebuild from raw whatever changed since they were last built, so a chunk killed
after its load but before dbt loses nothing.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestration.db.connection import connected
from orchestration.settings import DbTarget
from orchestration.window import hours_in

PROGRESS_TABLE = "audit.backfill_progress"


class BackfillError(RuntimeError):
    """A chunk's run failed; finished chunks stay recorded."""


def parse_chunk(text: str) -> timedelta:
    """'24h', '6h', '2d' -> a whole number of hours."""
    match = re.fullmatch(r"\s*(\d+)\s*([hd])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--chunk {text!r} must be a whole number of hours or days, such as 6h or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(hours=amount) if unit == "h" else timedelta(days=amount)


def plan_chunks(start: datetime, end: datetime, chunk: timedelta) -> list[tuple[datetime, datetime]]:
    chunks, t = [], start
    while t < end:
        chunks.append((t, min(end, t + chunk)))
        t += chunk
    return chunks


def backfill_id(start: datetime, end: datetime, chunk: timedelta) -> str:
    return hashlib.sha1(f"{start.isoformat()}|{end.isoformat()}|{chunk}".encode()).hexdigest()[:16]


def _ensure_progress_table(cur) -> None:
    cur.execute("create schema if not exists audit")
    cur.execute(
        f"create table if not exists {PROGRESS_TABLE} ("
        " backfill_id text not null, chunk_start timestamp not null, chunk_end timestamp not null,"
        " rows_loaded bigint not null, seconds numeric(10, 2) not null,"
        " finished_at timestamptz not null default now(), primary key (backfill_id, chunk_start))"
    )


def finished_chunks(warehouse: DbTarget, backfill: str) -> set[datetime]:
    with connected(warehouse, application="smartgrid-backfill") as conn, conn.cursor() as cur:
        _ensure_progress_table(cur)
        cur.execute(f"select chunk_start from {PROGRESS_TABLE} where backfill_id = %s", (backfill,))
        return {row[0] for row in cur.fetchall()}


def _mark_finished(warehouse: DbTarget, backfill: str, chunk: tuple[datetime, datetime], rows: int, seconds: float):
    with connected(warehouse, application="smartgrid-backfill") as conn, conn.cursor() as cur:
        cur.execute(
            f"insert into {PROGRESS_TABLE} (backfill_id, chunk_start, chunk_end, rows_loaded, seconds) "
            "values (%s, %s, %s, %s, %s) on conflict do nothing",
            (backfill, chunk[0], chunk[1], rows, round(seconds, 2)),
        )


@dataclass
class BackfillSummary:
    backfill_id: str
    chunks_total: int
    chunks_skipped: int = 0  # finished by an earlier, interrupted invocation
    chunks_run: int = 0
    rows_loaded: int = 0
    seconds: float = 0.0
    runs: list[dict] = field(default_factory=list)


class Progress:
    """One status line: chunks, hours, rows and an ETA; redrawn in place on a terminal."""

    def __init__(self, total_hours: int, stream=sys.stderr):
        self.total_hours, self.stream = total_hours, stream
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def update(self, chunk_index: int, chunks: int, hours_done: int, hours_run: int, rows: int, note: str) -> None:
        elapsed = time.monotonic() - self.started
        remaining = self.total_hours - hours_done
        eta = f"{elapsed / hours_run * remaining:.0f} s" if hours_run else "?"
        width = 24
        filled = int(width * hours_done / self.total_hours) if self.total_hours else width
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] chunk {chunk_index}/{chunks}  "
            f"hours {hours_done}/{self.total_hours}  rows {rows:,}  elapsed {elapsed:.0f} s  ETA {eta}  {note}"
        )
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run_backfill(
    warehouse: DbTarget,
    start: datetime,
    end: datetime,
    chunk: timedelta,
    run_chunk: Callable[[datetime, datetime], tuple[bool, dict]],
    *,
    restart: bool = False,
    progress: Progress | None = None,
) -> BackfillSummary:
    """Run `run_chunk(start, end) -> (success, result)` over each unfinished chunk of [start, end)."""
    chunks = plan_chunks(start, end, chunk)
    backfill = backfill_id(start, end, chunk)
    done = set() if restart else finished_chunks(warehouse, backfill)
    summary = BackfillSummary(backfill, len(chunks))
    hours = lambda chunk: hours_in(*chunk)  # noqa: E731
    progress = progress or Progress(sum(hours(c) for c in chunks))
    hours_done = sum(hours(c) for c in chunks if c[0] in done)
    hours_run = 0
    started = time.monotonic()
    try:
        for index, current in enumerate(chunks, start=1):
            if current[0] in done:
                summary.chunks_skipped += 1
                continue
            progress.update(
                index,
                len(chunks),
                hours_done,
                hours_run,
                summary.rows_loaded,
                f"running {current[0].isoformat()} .. {current[1].isoformat()}",
            )
            chunk_started = time.monotonic()
            success, result = run_chunk(*current)
            if not success:
                raise BackfillError(
                    f"chunk {current[0].isoformat()} .. {current[1].isoformat()} failed: {result.get('error')}; "
                    f"{summary.chunks_skipped + summary.chunks_run} of {len(chunks)} chunks are done, "
                    "run the same command again to resume"
                )
            rows = int((result.get("load") or {}).get("rows_loaded", 0))
            _mark_finished(warehouse, backfill, current, rows, time.monotonic() - chunk_started)
            summary.chunks_run += 1
            summary.rows_loaded += rows
            summary.runs.append(result)
            hours_done += hours(current)
            hours_run += hours(current)
            progress.update(index, len(chunks), hours_done, hours_run, summary.rows_loaded, "done")
    finally:
        progress.close()
        summary.seconds = time.monotonic() - started
    return summary
