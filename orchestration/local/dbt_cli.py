"""`make dbt ARGS="..."`: run any dbt command against the configured (or embedded) warehouse."""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    from orchestration.db.targets import resolve_targets
    from orchestration.settings import load_settings
    from orchestration.steps.dbt_runner import dbt_environment

    settings = load_settings()
    warehouse, _ = resolve_targets(settings)
    os.environ.update(dbt_environment(settings, warehouse))
    os.chdir(settings.dbt_project_dir)
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(argv or ["--help"])
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
