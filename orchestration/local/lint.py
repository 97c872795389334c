"""`make lint`: sqlfluff over the dbt project, with the warehouse environment dbt's templater needs.

The dbt templater compiles every model, and `is_incremental()` asks the warehouse whether the model exists,
so this starts the embedded PostgreSQL when it is configured (like `make dbt`) and creates the warehouse
database when it is missing (a clean clone: nothing needs to be built or loaded to lint). Configuration:
dbt_smartgrid/.sqlfluff. Usage: `smartgrid sqlfluff [lint|fix ...] [paths...]` (default: lint models tests).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from orchestration.db.connection import ensure_database
from orchestration.local.postgres import resolve_targets
from orchestration.settings import Settings, subprocess_environment
from orchestration.steps.dbt_runner import dbt_environment

DEFAULT_PATHS = ["models", "tests"]


def run_sqlfluff(settings: Settings, argv: list[str]) -> int:
    """sqlfluff `argv` (default: lint) in the dbt project; its exit code."""
    warehouse, _ = resolve_targets(settings)
    ensure_database(warehouse)
    env = subprocess_environment(dbt_environment(settings, warehouse))
    command, *rest = argv or ["lint"]
    paths = [] if any(not arg.startswith("-") for arg in rest) else DEFAULT_PATHS
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    return subprocess.call([str(sqlfluff), command, *rest, *paths], cwd=settings.dbt_project_dir, env=env)

