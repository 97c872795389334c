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
from orchestration.results.model import RunReport
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


def retention_horizon(warehouse: DbTarget) -> datetime | None:
    """The latest `cleaned_before` of raw.retention: raw rows before it were deleted by the retention cleanup and
    the loader never copies them back (steps/reconcile.py). None before any cleanup."""
    with connected(warehouse, application="smartgrid-backfill") as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('raw.retention') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute("select max(cleaned_before) from raw.retention")
        return cur.fetchone()[0]


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
    chunks_past_retention: int = 0  # wholly before the retention horizon: not run, nothing to load
    retention_horizon: datetime | None = None
    rows_loaded: int = 0
    seconds: float = 0.0
    runs: list[RunReport] = field(default_factory=list)


def progress_bar(stream=None):
    """rich's progress bar: chunks, hours, rows, elapsed and remaining time, on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("hours"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(file=stream or sys.stderr),
    )


def run_backfill(
    warehouse: DbTarget,
    start: datetime,
    end: datetime,
    chunk: timedelta,
    run_chunk: Callable[[datetime, datetime], tuple[bool, RunReport]],
    *,
    restart: bool = False,
    progress=None,
) -> BackfillSummary:
    """Run `run_chunk(start, end) -> (success, report)` over each unfinished chunk of [start, end)."""
    chunks = plan_chunks(start, end, chunk)
    backfill = backfill_id(start, end, chunk)
    done = set() if restart else finished_chunks(warehouse, backfill)
    summary = BackfillSummary(backfill, len(chunks), retention_horizon=retention_horizon(warehouse))
    horizon = summary.retention_horizon
    progress = progress or progress_bar()
    started = time.monotonic()
    with progress:
        bar = progress.add_task("backfill", total=sum(hours_in(*c) for c in chunks), note="")
        progress.update(bar, completed=sum(hours_in(*c) for c in chunks if c[0] in done))
        for index, current in enumerate(chunks, start=1):
            if current[0] in done:
                summary.chunks_skipped += 1
                continue
            label = f"chunk {index}/{len(chunks)} {current[0].isoformat()} .. {current[1].isoformat()}"
            if horizon is not None and current[1] <= horizon:
                summary.chunks_past_retention += 1
                progress.advance(bar, hours_in(*current))
                progress.console.print(
                    f"{label}: not loaded: before the retention horizon {horizon.isoformat()} (raw rows before it "
                    "were deleted by the retention cleanup and are not copied back; SMARTGRID_RETENTION_DAYS)"
                )
                continue
            progress.update(bar, note=f"chunk {index}/{len(chunks)}, {summary.rows_loaded:,} rows")
            chunk_started = time.monotonic()
            success, report = run_chunk(*current)
            if not success:
                raise BackfillError(
                    f"chunk {current[0].isoformat()} .. {current[1].isoformat()} failed: {report.error}; "
                    f"{summary.chunks_skipped + summary.chunks_run} of {len(chunks)} chunks are done, "
                    "run the same command again to resume"
                )
            rows = report.load.rows_loaded if report.load else 0
            _mark_finished(warehouse, backfill, current, rows, time.monotonic() - chunk_started)
            summary.chunks_run += 1
            summary.rows_loaded += rows
            summary.runs.append(report)
            progress.advance(bar, hours_in(*current))
            partly = horizon is not None and current[0] < horizon
            note = f" (hours before the retention horizon {horizon.isoformat()} were not loaded)" if partly else ""
            progress.console.print(f"{label}: done, {rows:,} rows loaded{note}")
    summary.seconds = time.monotonic() - started
    return summary
