"""What the dbt project declares, read from the project itself and never listed by hand in Python.

- The marts: every model with `config.schema == 'marts'` that is materialized `incremental` (the tables that
  carry `loaded_through` and are backed up, restored and reported per run), from dbt's manifest; the checkpoint
  also validates a view there whose config says `meta: {gx_window: true}` (the VEE mart).
- The thresholds both dbt and Great Expectations use (physical ranges, clock tolerance): dbt_project.yml vars.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from orchestration.settings import Settings

log = logging.getLogger(__name__)

PROJECT_INPUTS = ("models", "macros", "tests", "dbt_project.yml", "selectors.yml")


def manifest_path(settings: Settings) -> Path:
    """The pipeline's manifest: replaced atomically after each of its dbt commands (steps/dbt_runner.py), so a
    reader never sees one half written, even while `make dbt` or a test suite runs dbt in the same checkout."""
    from orchestration.steps.dbt_runner import PIPELINE_MANIFEST

    return settings.dbt_project_dir / "target" / PIPELINE_MANIFEST


def manifest_is_current(settings: Settings) -> bool:
    """The manifest exists and is newer than every file of the project it was parsed from."""
    manifest = manifest_path(settings)
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    for name in PROJECT_INPUTS:
        path = settings.dbt_project_dir / name
        files = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return False
    return True


def read_manifest(settings: Settings) -> dict:
    """The pipeline's manifest (manifest_path); `dbt parse` writes it first when missing or older than the project."""
    if not manifest_is_current(settings):
        from orchestration.steps.dbt_runner import parse_project

        log.info("parsing the dbt project (its manifest is missing or older than the project)")
        parse_project(settings)
    return json.loads(manifest_path(settings).read_text())


def marts(settings: Settings) -> dict[str, str]:
    """Each incremental mart -> the column naming its period (`hour_start`, `day` for UTC days, `local_day`)."""
    return marts_in(read_manifest(settings))


def checkpoint_marts(settings: Settings) -> dict[str, str]:
    """The marts the Great Expectations checkpoint validates: all but those whose config says
    `meta: {gx_window: false}` (the network marts: empty without a network, and a validation costs every run),
    and the views in the marts schema whose config says `meta: {gx_window: true}` (the VEE mart)."""
    return marts_in(read_manifest(settings), checkpoint=True)


def marts_in(manifest: dict, *, checkpoint: bool = False) -> dict[str, str]:
    found = {}
    for node in manifest["nodes"].values():
        config = node.get("config") or {}
        if node["resource_type"] != "model" or config.get("schema") != "marts":
            continue
        gx_window = (config.get("meta") or {}).get("gx_window")
        if config.get("materialized") == "incremental":
            wanted = not (checkpoint and gx_window is False)  # every mart table; the checkpoint's unless opted out
        else:
            wanted = checkpoint and config.get("materialized") == "view" and gx_window is True  # a view opts in
        if wanted:
            columns = node["columns"]
            period = next((c for c in ("hour_start", "local_day") if c in columns), "day")
            found[node.get("alias") or node["name"]] = period
    return dict(sorted(found.items()))


@cache
def _project_vars(project_file: Path) -> dict:
    import yaml

    return yaml.safe_load(project_file.read_text()).get("vars") or {}


def project_vars(settings: Settings) -> dict:
    """The `vars:` of dbt_project.yml (their defaults; `--vars` on one dbt command does not change them)."""
    return _project_vars(settings.dbt_project_dir / "dbt_project.yml")
