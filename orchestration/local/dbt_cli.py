"""`smartgrid dbt ...` and `make dbt ARGS="..."`: run any dbt command against the configured (or embedded) warehouse.

This process becomes dbt (exec), with the profile's variables in its environment: no wrapper process stays
between `make` (or `dbt docs serve`'s caller) and dbt, so stopping it stops dbt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orchestration.local.postgres import resolve_targets
from orchestration.settings import Settings, subprocess_environment
from orchestration.steps.dbt_runner import dbt_environment


def exec_dbt(settings: Settings, args: list[str]) -> int:
    """Become dbt in the dbt project (returns only if exec fails, by raising OSError)."""
    warehouse, _ = resolve_targets(settings)
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.chdir(settings.dbt_project_dir)
    os.execve(dbt, [dbt, *(args or ["--help"])], subprocess_environment(dbt_environment(settings, warehouse)))
    return 1  # not reached
