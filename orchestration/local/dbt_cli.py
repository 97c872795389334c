"""`make dbt ARGS="..."`: run any dbt command against the configured (or embedded) warehouse.

This process becomes dbt (exec), with the profile's variables in its environment: no wrapper process stays
between `make` (or `dbt docs serve`'s caller) and dbt, so stopping it stops dbt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from orchestration.db.targets import resolve_targets
    from orchestration.settings import load_settings, subprocess_environment
    from orchestration.steps.dbt_runner import dbt_environment

    settings = load_settings()
    warehouse, _ = resolve_targets(settings)
    dbt = str(Path(sys.executable).with_name("dbt"))
    os.chdir(settings.dbt_project_dir)
    os.execve(dbt, [dbt, *(argv or ["--help"])], subprocess_environment(dbt_environment(settings, warehouse)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
