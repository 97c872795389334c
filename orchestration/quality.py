"""Great Expectations: plausibility checks on the raw rows and the marts rows of a run's window.

The suites are defined here, in code; `python -m orchestration.quality` writes them into the file context
in `gx/` (commit the JSON it writes). A run writes its window into `audit.validation_window`; the query
assets read raw and the marts through it, so one committed checkpoint validates any window (no partitioner
to round-trip through the file context).

dbt tests keep the contracts (keys, accepted values, the energy invariant); GX checks that the rows are
plausible: row by row in raw (clock, NaN, units, exactly-once), in aggregate in the marts. Every
expectation is `critical` (GX's default: a failure fails the run) or `warning` (recorded and shown, the run
goes on). Import time: great_expectations takes ~8 s, so it is imported only here, lazily.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from orchestration.database import connected
from orchestration.settings import DbTarget, Settings

DATA_SOURCE = "smartgrid_warehouse"
CONNECTION_ENV = "SMARTGRID_WAREHOUSE_URL"  # set at run time; the password never reaches gx/
CHECKPOINT = "run_window"
WINDOW_TABLE = "audit.validation_window"

_WINDOW = f"(select window_start from {WINDOW_TABLE})", f"(select window_end from {WINDOW_TABLE})"
_RAW_WINDOW = (
    f"where \"timestamp\" >= ({_WINDOW[0]} at time zone 'UTC') and \"timestamp\" < ({_WINDOW[1]} at time zone 'UTC')"
)
# SPEC §3's physical ranges, the same numbers as the dbt var sensor_ranges
SENSOR_RANGES = {"voltage": (0, 1000), "current": (0, 10000), "power": (-100000, 100000), "frequency": (40, 70)}
_IN_RANGE = " ".join(
    f"when '{kind}' then value between {low} and {high}" for kind, (low, high) in SENSOR_RANGES.items()
)
WINDOW_QUERIES = {
    # raw rows measured in the window, with the few derived columns the row-level expectations need
    "raw_sensor_data": (
        "select event_id, sensor_id, sensor_type, "
        "value = 'NaN' as is_nan, "
        f"case when value = 'NaN' then null else case sensor_type {_IN_RANGE} end end as is_in_physical_range, "
        'extract(epoch from "timestamp" - created_at) as seconds_ahead_of_arrival '
        f"from raw.sensor_data {_RAW_WINDOW}"
    ),
    "raw_meter_readings": (
        "select event_id, meter_id, "
        "reading = 'NaN' as is_nan, "
        "case when reading = 'NaN' then null else reading end as reading, "
        "lower(coalesce(unit, 'kWh')) as unit_normalized, "
        'extract(epoch from "timestamp" - created_at) as seconds_ahead_of_arrival, '
        'mod(extract(epoch from "timestamp")::numeric, 900) as seconds_off_quarter_hour '
        f"from raw.meter_readings {_RAW_WINDOW}"
    ),
    "fct_sensor_hourly": (
        f"select * from marts.fct_sensor_hourly where hour_start >= {_WINDOW[0]} and hour_start < {_WINDOW[1]}"
    ),
    "fct_meter_consumption_hourly": (
        "select * from marts.fct_meter_consumption_hourly "
        f"where hour_start >= {_WINDOW[0]} and hour_start < {_WINDOW[1]}"
    ),
    "fct_meter_consumption_hourly_vee": (
        "select * from marts.fct_meter_consumption_hourly_vee "
        f"where hour_start >= {_WINDOW[0]} and hour_start < {_WINDOW[1]}"
    ),
    "fct_customer_consumption_daily": (
        "select * from marts.fct_customer_consumption_daily "
        f"where day >= ({_WINDOW[0]} at time zone 'UTC')::date "
        f"and day <= (({_WINDOW[1]} - interval '1 microsecond') at time zone 'UTC')::date"
    ),
}


def suites() -> dict:
    """Expectations per window query: row plausibility in raw, aggregate plausibility in the marts.

    Severity: critical (the default) fails the run; warning is recorded in audit.dq_run_results and shown
    in the run's artifact, and the run goes on. `mostly` is the share of rows that must pass.
    """
    import great_expectations.expectations as gxe

    warn = {"severity": "warning"}
    return {
        "raw_sensor_data": [
            # SPEC §2: every source row is in raw exactly once
            gxe.ExpectColumnValuesToBeUnique(column="event_id"),
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **warn),  # an empty window: freshness
            # SPEC §3 rejects these rows one by one; more than 1 % of them means a broken gateway or feed
            gxe.ExpectColumnValuesToBeInSet(
                column="sensor_type", value_set=["voltage", "current", "power", "frequency"], mostly=0.99, **warn
            ),
            gxe.ExpectColumnValuesToBeInSet(column="is_nan", value_set=[False], mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeInSet(column="is_in_physical_range", value_set=[True], mostly=0.99, **warn),
            # clock: measured more than 5 minutes after it arrived
            gxe.ExpectColumnValuesToBeBetween(column="seconds_ahead_of_arrival", max_value=300, mostly=0.99, **warn),
        ],
        "raw_meter_readings": [
            gxe.ExpectColumnValuesToBeUnique(column="event_id"),
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **warn),
            gxe.ExpectColumnValuesToBeInSet(column="is_nan", value_set=[False], mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeBetween(column="reading", min_value=0, mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeInSet(
                column="unit_normalized", value_set=["kwh", "wh", "mwh"], mostly=0.99, **warn
            ),
            gxe.ExpectColumnValuesToBeBetween(column="seconds_ahead_of_arrival", max_value=300, mostly=0.99, **warn),
            # clock: registers are read on the quarter-hour grid
            gxe.ExpectColumnValuesToBeInSet(column="seconds_off_quarter_hour", value_set=[0], mostly=0.99, **warn),
        ],
        "fct_sensor_hourly": [
            # 1-minute cadence gives 60 readings an hour; more means a device floods or clocks disagree
            gxe.ExpectColumnValuesToBeBetween(column="reading_count", min_value=1, max_value=120),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="max_value", column_B="min_value", or_equal=True),
            gxe.ExpectColumnValuesToNotBeNull(column="avg_value"),
            # power quality: most sensor-hours complete and inside the EN 50160 bands
            gxe.ExpectColumnValuesToBeBetween(column="completeness_pct", min_value=90, mostly=0.9, **warn),
            gxe.ExpectColumnValuesToNotBeInSet(column="pq_flag", value_set=["out_of_band"], mostly=0.95, **warn),
        ],
        "fct_meter_consumption_hourly": [
            # > 5 MWh in one hour on one meter is beyond any distribution-grid connection we serve
            gxe.ExpectColumnValuesToBeBetween(column="consumption_kwh", min_value=0, max_value=5000),
            gxe.ExpectColumnValuesToBeBetween(column="reading_count", min_value=0, max_value=8),
            # most hours must be trustworthy; a fleet where half the hours are questionable is broken
            gxe.ExpectColumnValuesToNotBeInSet(column="quality_code", value_set=[10], mostly=0.5),
        ],
        "fct_meter_consumption_hourly_vee": [
            gxe.ExpectColumnValuesToBeBetween(column="vee_kwh", min_value=0, max_value=5000),
            # after estimation, at most 10 % of the meter-hours should remain questionable
            gxe.ExpectColumnValuesToNotBeInSet(column="vee_quality_code", value_set=[10], mostly=0.9, **warn),
        ],
        "fct_customer_consumption_daily": [
            gxe.ExpectColumnValuesToBeBetween(column="consumption_kwh", min_value=0, max_value=120000),
            gxe.ExpectColumnValuesToBeBetween(column="meter_count", min_value=1, max_value=1000),
        ],
    }


def build_gx_project(settings: Settings, warehouse: DbTarget) -> None:
    """(Re)write the data source, assets, suites, validation definitions and checkpoint into gx/.

    GX tests the connection and the queries while adding them, so the marts must exist in `warehouse`.
    """
    set_validation_window(warehouse, datetime(2000, 1, 1), datetime(2000, 1, 1, 1))
    os.environ[CONNECTION_ENV] = warehouse.sqlalchemy_url()
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_root))
    source = context.data_sources.add_or_update_postgres(
        name=DATA_SOURCE, connection_string="${" + CONNECTION_ENV + "}"
    )
    validation_definitions = []
    for relation, expectations in suites().items():
        name = f"{relation}_window"
        with contextlib.suppress(LookupError):
            source.delete_asset(name)
        asset = source.add_query_asset(name=name, query=WINDOW_QUERIES[relation])
        batch = asset.add_batch_definition_whole_table("window")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
        validation_definitions.append(
            context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        )
    context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=validation_definitions,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
            result_format={"result_format": "SUMMARY"},
        )
    )


@dataclass
class CheckpointOutcome:
    success: bool  # no critical expectation failed
    seconds: float
    statistics: dict = field(default_factory=dict)  # evaluated / successful / unsuccessful, failed_critical / _warning
    failed_expectations: list[str] = field(default_factory=list)  # critical failures: they fail the run
    warnings: list[str] = field(default_factory=list)  # failed warning-severity expectations
    rows_validated: dict[str, int] = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)  # one per expectation, for audit.dq_run_results
    data_docs: str | None = None

    def to_dict(self) -> dict:
        return {
            "success": self.success,
            "seconds": round(self.seconds, 2),
            "statistics": self.statistics,
            "failed_expectations": self.failed_expectations,
            "warnings": self.warnings,
            "rows_validated": self.rows_validated,
            "checks": self.checks,
            "data_docs": self.data_docs,
        }


def set_validation_window(warehouse: DbTarget, start: datetime, end: datetime) -> dict[str, int]:
    """Write the window the checkpoint reads; return the raw and marts rows inside it."""
    with connected(warehouse, application="smartgrid-quality") as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists audit")
        cur.execute(
            f"create table if not exists {WINDOW_TABLE} "
            "(window_start timestamptz not null, window_end timestamptz not null)"
        )
        cur.execute(f"delete from {WINDOW_TABLE}")
        cur.execute(f"insert into {WINDOW_TABLE} values (%s at time zone 'UTC', %s at time zone 'UTC')", (start, end))
        rows = {}
        for relation, query in WINDOW_QUERIES.items():
            cur.execute(f"select count(*) from ({query}) as window_rows")
            rows[relation] = cur.fetchone()[0]
        return rows


def expectation_check(suite_name: str, check) -> dict:
    """One expectation's result as a row of audit.dq_run_results (see orchestration/dq_results.py)."""
    config = check.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format") and v is not None}
    column = kwargs.pop("column", None) or (
        f"{kwargs.pop('column_A')}, {kwargs.pop('column_B')}" if "column_A" in kwargs else ""
    )
    result = check.result or {}
    observed = result.get("observed_value")
    if result.get("unexpected_percent") is not None:  # row-level: the share of rows that failed, %
        observed = result["unexpected_percent"]
        detail = f"{result.get('unexpected_count', 0)} of {result.get('element_count', 0)} rows unexpected"
    else:
        detail = f"observed {observed}"
    error = _exception_message(check.exception_info)
    if error:
        detail = f"error: {error}"[:300]
    severity = getattr(config, "severity", None) or "critical"  # a FailureSeverity (a str enum)
    return {
        "name": f"{suite_name}: {config.type}({column})",
        "checked_object": suite_name.removesuffix("_window"),
        "severity": str(getattr(severity, "value", severity)),
        "success": bool(check.success),
        "observed_value": round(observed, 4) if isinstance(observed, int | float) else None,
        "threshold": ", ".join(f"{k}={v}" for k, v in sorted(kwargs.items())),
        "detail": detail,
    }


def _exception_message(info) -> str | None:
    """GX reports an expectation that could not be evaluated either directly or per metric."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "exception")
    return None


def prepare_checkpoint_in_background() -> threading.Thread:
    """Import Great Expectations in a daemon thread, so a run's checkpoint does not wait ~8 s for it."""

    def warm_up() -> None:
        with contextlib.suppress(Exception):  # the checkpoint imports it again and reports any error
            import great_expectations  # noqa: F401
            import great_expectations.expectations  # noqa: F401

    thread = threading.Thread(target=warm_up, name="gx-import", daemon=True)
    thread.start()
    return thread


def run_checkpoint(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> CheckpointOutcome:
    """Validate the raw and marts rows of [start, end) with the committed checkpoint."""
    started = time.monotonic()
    rows = set_validation_window(warehouse, start, end)
    os.environ[CONNECTION_ENV] = warehouse.sqlalchemy_url()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    result = context.checkpoints.get(CHECKPOINT).run()
    totals = {"evaluated_expectations": 0, "successful_expectations": 0, "unsuccessful_expectations": 0}
    checks = []
    for validation in result.run_results.values():
        for key in totals:
            totals[key] += int(validation.statistics.get(key, 0))
        checks += [expectation_check(validation.suite_name, check) for check in validation.results]
    failed = [c for c in checks if not c["success"] and c["severity"] == "critical"]
    warned = [c for c in checks if not c["success"] and c["severity"] != "critical"]
    totals["failed_critical"], totals["failed_warning"] = len(failed), len(warned)
    totals["success_percent"] = (
        round(100 * totals["successful_expectations"] / totals["evaluated_expectations"], 1)
        if totals["evaluated_expectations"]
        else 100.0
    )
    docs = settings.gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return CheckpointOutcome(
        success=not failed,
        seconds=time.monotonic() - started,
        statistics=totals,
        failed_expectations=[f"{c['name']}, {c['detail']}" for c in failed],
        warnings=[f"{c['name']}, {c['detail']}" for c in warned],
        rows_validated=rows,
        checks=checks,
        data_docs=str(docs) if docs.exists() else None,
    )


if __name__ == "__main__":
    from orchestration.database import resolve_targets
    from orchestration.settings import load_settings

    settings = load_settings()
    build_gx_project(settings, resolve_targets(settings)[0])
    print("gx/ written; review and commit the JSON that changed")
