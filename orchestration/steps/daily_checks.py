"""What the dbt build of a run selects, and the daily run's record of its checks (docs/data-contract.md §4, §5).

- The hourly run builds the `hourly` selector with var vee_day_checks=false: the VEE day checks write nothing,
  since judging today's meter-days every hour would re-read them all day long.
- The daily run (enable_cleanup) builds `daily_run`: the same models with the day checks on, plus the energy
  invariants and a fresh recomputation of a sample of meters, each over what changed since the last daily pass
  (var check_scope=since_last_daily_pass). When it succeeds, the pass is recorded in audit.daily_check_passes
  (written by the transformer, like the marts), so the next one starts where it ended; a failed invariant fails
  the run (and alerts like any failed run).
- `smartgrid check` runs the same checks on demand; `--full` over all of history, every meter.
"""

from __future__ import annotations

from orchestration.db.connection import connected
from orchestration.settings import DbTarget

HOURLY_BUILD = ("build", "--selector", "hourly", "--vars", "{vee_day_checks: false}")
DAILY_BUILD = ("build", "--selector", "daily_run", "--vars", "{check_scope: since_last_daily_pass}")
# every check of the data as a whole: the daily run's, and those that read all of history (selector daily_checks)
CHECKS = ("test", "--select", "tag:invariant", "tag:daily_run")
FULL_CHECKS = (*CHECKS, "tag:whole_history", "--vars", "{check_scope: all, invariant_sample_pct: 100}")


def build_args(daily: bool) -> tuple[str, ...]:
    """The dbt command of a run: the daily run's or the hourly one's."""
    return DAILY_BUILD if daily else HOURLY_BUILD


def check_args(full: bool) -> tuple[str, ...]:
    """`smartgrid check`: what changed since the last daily pass, or (full) everything."""
    return FULL_CHECKS if full else (*CHECKS, "--vars", "{check_scope: since_last_daily_pass}")


PASSES = "audit.daily_check_passes"  # read by the dbt macro checks_scope_start()


def record_daily_pass(warehouse: DbTarget) -> None:
    """The daily checks passed for every row built so far: the next pass checks the rows built after now (their
    loaded_through, a raw load time on the same database clock, is later)."""
    with connected(warehouse, application="smartgrid-daily-checks") as conn, conn.cursor() as cur:
        cur.execute(
            f"create table if not exists {PASSES} "
            "(checked_through timestamptz not null, checked_at timestamptz not null default now())"
        )
        cur.execute(f"insert into {PASSES} (checked_through) values (now())")


def last_daily_pass(warehouse: DbTarget):
    """When the last daily pass ended, or None before the first one."""
    with connected(warehouse, application="smartgrid-daily-checks") as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (PASSES,))
        if cur.fetchone()[0] is None:
            return None
        cur.execute(f"select max(checked_through) from {PASSES}")
        return cur.fetchone()[0]
