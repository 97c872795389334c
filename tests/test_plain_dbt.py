"""Plain dbt works: `cd dbt_smartgrid && dbt ...` finds the project's profile and this checkout's embedded
PostgreSQL with no POSTGRES_* variable and no flag (the analyst's and the dbt IDE extensions' way in)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from orchestration.db.connection import connected, ensure_database
from orchestration.steps.loader import raw_ddl
from tests.helpers import query


def plain_dbt(settings, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The `dbt` executable run in dbt_smartgrid/, with no POSTGRES_*, SOURCE_* or DBT_* variable set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "SOURCE_POSTGRES_", "DBT_"))}
    # target/ and logs/ in tmp_path: the tests running beside this one read the project's target/manifest.json
    clean |= {"DO_NOT_TRACK": "1", "DBT_TARGET_PATH": str(tmp_path / "target"), "DBT_LOG_PATH": str(tmp_path), **env}
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args], cwd=settings.dbt_project_dir, env=clean, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_plain_dbt_finds_the_profile_and_the_embedded_database(settings, warehouse, tmp_path):
    if not settings.embedded:
        pytest.skip("POSTGRES_HOST is set: the profile's default (the embedded server) is not in use")
    ensure_database(replace(warehouse, dbname="smartgrid_warehouse"))  # the default one `smartgrid db start` makes
    debug = plain_dbt(settings, tmp_path, "debug")
    assert debug.returncode == 0 and "All checks passed!" in debug.stdout, debug.stdout[-2000:]
    assert f"host: {warehouse.host}" in debug.stdout and "database: smartgrid_warehouse" in debug.stdout

    # one staging view, built by plain dbt in the test warehouse (only the database named: it is the tests')
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute(raw_ddl())
        cur.execute("drop view if exists staging.stg_ops__sensor_readings")
    run = plain_dbt(settings, tmp_path, "run", "--select", "stg_ops__sensor_readings", POSTGRES_DB=warehouse.dbname)
    assert run.returncode == 0, run.stdout[-2000:]
    views = "select table_schema from information_schema.views where table_name = 'stg_ops__sensor_readings'"
    assert query(warehouse, views) == [("staging",)]
