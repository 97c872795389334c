"""The report's views (dbt_smartgrid/models/reports, tag `report`): created by dbt only when needed.

They stay out of the hourly `dbt build` (its per-node overhead is the pipeline's main cost). Views need no
refresh when data changes, only when they are missing (a new warehouse, or a view or table they read recreated by
dbt, which drops the views on it) or when their definition changed. The definition is fingerprinted (the report models'
files and dbt_project.yml, which holds the vars they read) and the fingerprint kept as the comment of the
`reports` schema; a mismatch or a missing view runs `dbt run --selector report`.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from orchestration.db.connection import connected
from orchestration.settings import DbTarget, Settings

SCHEMA = "reports"
# What the views read: without these the pipeline has not run yet and there is nothing to report.
INPUTS = (
    "marts.fct_sensor_hourly",
    "marts.fct_meter_consumption_hourly_vee",
    "marts.fct_customer_consumption_daily",
    "marts.fct_transformer_loading_hourly",
    "audit.rejected_readings",
    "audit.meter_vee_exceptions",
)
VIEW_LOCK_KEY = 5_317_011  # pg_advisory_lock key while the views are (re)created


def models_dir(settings: Settings) -> Path:
    return settings.dbt_project_dir / "models" / "reports"


def view_names(settings: Settings) -> list[str]:
    """One view per model file: the view is named after it."""
    return sorted(path.stem for path in models_dir(settings).glob("*.sql"))


def fingerprint(settings: Settings) -> str:
    files = sorted(models_dir(settings).glob("*.*")) + [settings.dbt_project_dir / "dbt_project.yml"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"smartgrid report views {digest.hexdigest()[:16]}"


def pipeline_has_run(warehouse: DbTarget) -> bool:
    """Whether every relation the views read exists (the first `dbt build` creates them)."""
    with connected(warehouse, application="smartgrid-report") as conn, conn.cursor() as cur:
        cur.execute("select count(to_regclass(name)) from unnest(%s::text[]) as name", (list(INPUTS),))
        return cur.fetchone()[0] == len(INPUTS)


def views_are_current(cur, settings: Settings) -> bool:
    cur.execute(
        "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = %s",
        (SCHEMA,),
    )
    row = cur.fetchone()
    if row is None or row[0] != fingerprint(settings):
        return False
    names = [f"{SCHEMA}.{name}" for name in view_names(settings)]
    cur.execute("select count(to_regclass(name)) from unnest(%s::text[]) as name", (names,))
    return cur.fetchone()[0] == len(names)


def ensure_views(settings: Settings, warehouse: DbTarget) -> float | None:
    """Create or replace the report's views when needed; return dbt's seconds, or None when they were current.

    Also creates the audit tables the pipeline-health views read, so a warehouse whose runs never recorded
    checks or step timings still gets its report. Concurrent callers wait for each other.
    """
    from orchestration.steps.dq_results import DDL as DQ_RESULTS_DDL
    from orchestration.steps.run_steps import DDL as RUN_STEPS_DDL

    with connected(warehouse, application="smartgrid-report", autocommit=True) as conn, conn.cursor() as cur:
        if views_are_current(cur, settings):
            return None
        cur.execute("select pg_advisory_lock(%s)", (VIEW_LOCK_KEY,))  # released when the session ends
        if views_are_current(cur, settings):
            return None
        cur.execute(DQ_RESULTS_DDL + RUN_STEPS_DDL)
        started = time.monotonic()
        from orchestration.steps.dbt_runner import run_dbt

        run_dbt(settings, warehouse, "run", "--selector", "report", "--quiet", prefect=False)
        cur.execute(f"comment on schema {SCHEMA} is %s", (fingerprint(settings),))
        return time.monotonic() - started
