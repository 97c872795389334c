"""Data-quality results over time: one row per run and check in `audit.dq_run_results`, and a score per run.

A check is one Great Expectations expectation of the run's checkpoint (raw rows and marts rows of the window)
or one dbt data test of the run's `dbt build` (whole tables). Each is critical (a failure fails the run) or a
warning (recorded, shown, the run goes on).

The run's data-quality score: 100 × (weight of the checks that passed) / (weight of all checks), with
critical checks weighing CRITICAL_WEIGHT and warnings WARNING_WEIGHT, rounded to one decimal; 100 when a
run has no checks. Every row of a run carries the score, and `audit.dq_run_scores` has one row per run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from orchestration.db.connection import connected
from orchestration.results.model import CheckpointReport, DataQualityReport, DbtReport, DqCheck
from orchestration.settings import DbTarget

CRITICAL_WEIGHT = 3
WARNING_WEIGHT = 1
RESULTS_TABLE = "audit.dq_run_results"
SCORES_VIEW = "audit.dq_run_scores"

DDL = f"""
create schema if not exists audit;
create table if not exists {RESULTS_TABLE} (
    run_id         text not null,         -- the Prefect flow run id
    window_start   timestamptz not null,  -- the run's window [window_start, window_end), UTC
    window_end     timestamptz not null,
    check_source   text not null,         -- great_expectations | dbt
    check_name     text not null,         -- what was checked: suite: expectation(column), or the dbt test
    checked_object text not null,         -- the table or window query checked
    severity       text not null check (severity in ('critical', 'warning')),
    success        boolean not null,
    observed_value numeric,               -- GX: % of rows unexpected (row checks) or the metric; dbt: failing rows
    threshold      text,                  -- GX: the expectation's arguments; dbt: failing rows allowed
    detail         text,
    run_score      numeric(4, 1) not null,
    checked_at     timestamptz not null,
    primary key (run_id, check_source, check_name)
);
create index if not exists dq_run_results_checked_at_idx on {RESULTS_TABLE} (checked_at);
create or replace view {SCORES_VIEW} as
select
    run_id,
    window_start,
    window_end,
    max(checked_at) as checked_at,
    max(run_score) as run_score,
    count(*) as checks,
    count(*) filter (where not success and severity = 'critical') as failed_critical,
    count(*) filter (where not success and severity = 'warning') as failed_warning
from {RESULTS_TABLE}
group by run_id, window_start, window_end;
"""


def checks_from(checkpoint: CheckpointReport | None, dbt: DbtReport | None) -> list[DqCheck]:
    """A run's checks: the checkpoint's expectations, then the dbt build's data tests."""
    checks = []
    seen: dict[str, int] = {}
    for c in checkpoint.checks if checkpoint else []:
        seen[c.name] = seen.get(c.name, 0) + 1
        name = c.name if seen[c.name] == 1 else f"{c.name} #{seen[c.name]}"  # the same expectation twice: apart
        checks.append(
            DqCheck(
                check_source="great_expectations",
                check_name=name,
                checked_object=c.checked_object,
                severity=c.severity,
                success=c.success,
                observed_value=c.observed_value,
                threshold=c.threshold,
                detail=c.detail,
            )
        )
    for test in dbt.tests if dbt else []:
        checks.append(
            DqCheck(
                check_source="dbt",
                check_name=test.name,
                checked_object=test.checked_object,
                severity=test.severity,
                success=test.status == "pass",
                observed_value=test.failures,
                threshold="0 failing rows",
                detail=test.status,
            )
        )
    return checks


def score(checks: list[DqCheck]) -> float:
    """100 × passed weight / total weight (critical checks weigh CRITICAL_WEIGHT, warnings WARNING_WEIGHT)."""
    weights = [(CRITICAL_WEIGHT if c.severity == "critical" else WARNING_WEIGHT, c.success) for c in checks]
    total = sum(w for w, _ in weights)
    return 100.0 if total == 0 else round(100 * sum(w for w, ok in weights if ok) / total, 1)


def record_run(
    warehouse: DbTarget,
    run_id: str,
    start: datetime,
    end: datetime,
    checkpoint: CheckpointReport | None,
    dbt: DbtReport | None,
) -> DataQualityReport:
    """Write the run's checks (replacing any earlier rows of the same run); return the score and failures."""
    checks = checks_from(checkpoint, dbt)
    run_score = score(checks)
    checked_at = datetime.now(UTC)
    with connected(warehouse, application="smartgrid-dq-results") as conn, conn.cursor() as cur:
        cur.execute(DDL)
        cur.execute(f"delete from {RESULTS_TABLE} where run_id = %s", (run_id,))
        cur.executemany(
            f"insert into {RESULTS_TABLE} values "
            "(%s, %s at time zone 'UTC', %s at time zone 'UTC', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    run_id,
                    start,
                    end,
                    c.check_source,
                    c.check_name,
                    c.checked_object,
                    c.severity,
                    c.success,
                    c.observed_value,
                    c.threshold,
                    c.detail,
                    run_score,
                    checked_at,
                )
                for c in checks
            ],
        )
    failed = [c for c in checks if not c.success]
    return DataQualityReport(
        run_id=run_id,
        score=run_score,
        checks=len(checks),
        failed_critical=[c for c in failed if c.severity == "critical"],
        failed_warning=[c for c in failed if c.severity == "warning"],
        table=RESULTS_TABLE,
    )
