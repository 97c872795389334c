"""`make dbt ARGS="..."`: run any dbt command against the configured (or embedded) warehouse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from orchestration.db.targets import resolve_targets
    from orchestration.settings import load_settings, subprocess_environment
    from orchestration.steps.dbt_runner import dbt_environment

    settings = load_settings()
    warehouse, _ = resolve_targets(settings)
    dbt = Path(sys.executable).with_name("dbt")
    env = subprocess_environment(dbt_environment(settings, warehouse))
    return subprocess.call([str(dbt), *(argv or ["--help"])], cwd=settings.dbt_project_dir, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
