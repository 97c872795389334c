"""`make lint`: sqlfluff over the dbt project, with the warehouse environment dbt's templater needs.

The dbt templater compiles every model, and `is_incremental()` asks the warehouse whether the model exists,
so this starts the embedded PostgreSQL when it is configured (like `make dbt`) and creates the warehouse
database when it is missing (a clean clone: nothing needs to be built or loaded to lint). Configuration:
dbt_smartgrid/.sqlfluff. Usage: python -m orchestration.local.lint lint [paths...] (default: models tests).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEFAULT_PATHS = ["models", "tests"]


def main(argv: list[str]) -> int:
    from orchestration.db.connection import ensure_database
    from orchestration.db.targets import resolve_targets
    from orchestration.settings import load_settings, subprocess_environment
    from orchestration.steps.dbt_runner import dbt_environment

    settings = load_settings()
    warehouse, _ = resolve_targets(settings)
    ensure_database(warehouse)
    env = subprocess_environment(dbt_environment(settings, warehouse))
    command, *rest = argv or ["lint"]
    paths = [] if any(not arg.startswith("-") for arg in rest) else DEFAULT_PATHS
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    return subprocess.call([str(sqlfluff), command, *rest, *paths], cwd=settings.dbt_project_dir, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
