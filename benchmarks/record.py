"""The committed record of `make bench`: every run, of every part, appends one JSON line to
benchmarks/results.jsonl with the machine, the commit, the date, the load average and its figures. README.md
and docs/scaling.md cite lines of it; commit it with the change it measured."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from orchestration.settings import REPO_ROOT

RESULTS = Path(__file__).with_name("results.jsonl")


def machine() -> str:
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, {platform.system()}"


def commit() -> str:
    """The commit measured; `+changes` when the work tree differed from it (besides this record)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    changed = [line for line in git("status", "--porcelain").splitlines() if not line.endswith(RESULTS.name)]
    return head + ("+changes" if changed else "")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def append(entry: dict) -> dict:
    """Add the machine, commit and date to `entry` and append it as one line; return the line's dict."""
    line = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit(), "machine": machine()}
    line.update(entry)  # the caller's commit, taken when the run began, wins
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, default=str, sort_keys=False) + "\n")
    return line
