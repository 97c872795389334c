"""The source freshness declared in dbt (`dbt_smartgrid/models/staging/ops/_ops__sources.yml`: `loaded_at_field`
and `warn_after` / `error_after`), checked every run. The thresholds are read from that file and compared with
the newest `_loaded_at` in raw, in SQL: the same rule as `dbt source freshness`, without a second dbt run per
flow run. A source past `warn_after` is a warning of the run and an alert (through the notification block of
orchestration/alerting.py); past `error_after` it fails the run (SourceStale), with a message naming the table
and the age, as `dbt source freshness` would. A table with no rows at all is left to the empty-window warning."""

from __future__ import annotations

import logging
from datetime import timedelta

import yaml

from orchestration.alerting import send_alert
from orchestration.db.connection import connected
from orchestration.settings import DbTarget, Settings

log = logging.getLogger(__name__)
SOURCES_YML = "models/staging/ops/_ops__sources.yml"


class SourceStale(RuntimeError):
    """A source table's newest raw load is older than its `error_after`."""


def declared_freshness(settings: Settings) -> dict[str, tuple[str, str, dict[str, timedelta]]]:
    """{source.table: (raw relation, loaded_at_field, {"warn": ..., "error": ...})} as declared in dbt."""
    declared = {}
    for source in yaml.safe_load((settings.dbt_project_dir / SOURCES_YML).read_text())["sources"]:
        for table in source["tables"]:
            config = {**source.get("config", {}), **table.get("config", {})}
            limits = {
                level.removesuffix("_after"): timedelta(**{limit["period"] + "s": limit["count"]})
                for level, limit in (config.get("freshness") or {}).items()
                if level in ("warn_after", "error_after")
            }
            if limits:
                relation = f"{source.get('schema', source['name'])}.{table['name']}"
                declared[f"{source['name']}.{table['name']}"] = (relation, config["loaded_at_field"], limits)
    return declared


def check_source_freshness(settings: Settings, warehouse: DbTarget, *, alert: bool = True) -> list[str]:
    """One warning per source table past `warn_after` (all of them sent as one alert); SourceStale when any
    table is past `error_after`."""
    warnings, errors = [], []
    with connected(warehouse, application="smartgrid-freshness") as conn, conn.cursor() as cur:
        for name, (relation, column, limits) in declared_freshness(settings).items():
            cur.execute("select to_regclass(%s)", (relation,))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(f"select now() - max({column}) from {relation}")
            age = cur.fetchone()[0]
            exceeded = [level for level in ("error", "warn") if age is not None and age > limits.get(level, age)]
            if exceeded:
                hours = age.total_seconds() / 3600
                found = errors if exceeded[0] == "error" else warnings
                found.append(
                    f"freshness: source {name} is stale: its newest raw load is {hours:.1f} h old "
                    f"({exceeded[0]}_after {limits[exceeded[0]]} in {SOURCES_YML})"
                )
    for warning in warnings:
        log.warning(warning)
    if warnings and alert:
        send_alert("smartgrid: stale source", "smartgrid ELT: " + "; ".join(warnings), settings=settings)
    if errors:
        raise SourceStale("; ".join(errors))
    return warnings
