"""Great Expectations: plausibility checks on the marts rows of a run's window.

The suites are defined here, in code; `python -m orchestration.quality` writes them into the file context
in `gx/` (commit the JSON it writes). A run writes its window into `audit.validation_window`; the query
assets read the marts through it, so one committed checkpoint validates any window (no partitioner to
round-trip through the file context).

dbt tests keep the contracts (keys, accepted values, the energy invariant); GX checks that the numbers
are physically plausible. Import time: great_expectations takes ~8 s, so it is imported only here, lazily.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from datetime import datetime

from orchestration.database import connected
from orchestration.settings import DbTarget, Settings

DATA_SOURCE = "smartgrid_warehouse"
CONNECTION_ENV = "SMARTGRID_WAREHOUSE_URL"  # set at run time; the password never reaches gx/
CHECKPOINT = "marts_window"
WINDOW_TABLE = "audit.validation_window"

_WINDOW = f"(select window_start from {WINDOW_TABLE})", f"(select window_end from {WINDOW_TABLE})"
WINDOW_QUERIES = {
    "fct_sensor_hourly": (
        f"select * from marts.fct_sensor_hourly where hour_start >= {_WINDOW[0]} and hour_start < {_WINDOW[1]}"
    ),
    "fct_meter_consumption_hourly": (
        "select * from marts.fct_meter_consumption_hourly "
        f"where hour_start >= {_WINDOW[0]} and hour_start < {_WINDOW[1]}"
    ),
    "fct_customer_consumption_daily": (
        "select * from marts.fct_customer_consumption_daily "
        f"where day >= ({_WINDOW[0]} at time zone 'UTC')::date "
        f"and day <= (({_WINDOW[1]} - interval '1 microsecond') at time zone 'UTC')::date"
    ),
}


def suites() -> dict:
    """Expectations per mart: aggregate plausibility, not the contracts dbt already tests."""
    import great_expectations.expectations as gxe

    return {
        "fct_sensor_hourly": [
            # 1-minute cadence gives 60 readings an hour; more means a device floods or clocks disagree
            gxe.ExpectColumnValuesToBeBetween(column="reading_count", min_value=1, max_value=120),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="max_value", column_B="min_value", or_equal=True),
            gxe.ExpectColumnValuesToNotBeNull(column="avg_value"),
        ],
        "fct_meter_consumption_hourly": [
            # > 5 MWh in one hour on one meter is beyond any distribution-grid connection we serve
            gxe.ExpectColumnValuesToBeBetween(column="consumption_kwh", min_value=0, max_value=5000),
            gxe.ExpectColumnValuesToBeBetween(column="reading_count", min_value=0, max_value=8),
            # most hours must be trustworthy; a fleet where half the hours are questionable is broken
            gxe.ExpectColumnValuesToNotBeInSet(column="quality_code", value_set=[10], mostly=0.5),
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
    for mart, expectations in suites().items():
        name = f"{mart}_window"
        with contextlib.suppress(LookupError):
            source.delete_asset(name)
        asset = source.add_query_asset(name=name, query=WINDOW_QUERIES[mart])
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
    success: bool
    seconds: float
    statistics: dict = field(default_factory=dict)  # evaluated / successful / unsuccessful expectations
    failed_expectations: list[str] = field(default_factory=list)
    rows_validated: dict[str, int] = field(default_factory=dict)
    data_docs: str | None = None

    def to_dict(self) -> dict:
        return {
            "success": self.success,
            "seconds": round(self.seconds, 2),
            "statistics": self.statistics,
            "failed_expectations": self.failed_expectations,
            "rows_validated": self.rows_validated,
            "data_docs": self.data_docs,
        }


def set_validation_window(warehouse: DbTarget, start: datetime, end: datetime) -> dict[str, int]:
    """Write the window the checkpoint reads; return the marts rows inside it."""
    with connected(warehouse, application="smartgrid-quality") as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists audit")
        cur.execute(
            f"create table if not exists {WINDOW_TABLE} "
            "(window_start timestamptz not null, window_end timestamptz not null)"
        )
        cur.execute(f"delete from {WINDOW_TABLE}")
        cur.execute(f"insert into {WINDOW_TABLE} values (%s at time zone 'UTC', %s at time zone 'UTC')", (start, end))
        rows = {}
        for mart, query in WINDOW_QUERIES.items():
            cur.execute(f"select count(*) from ({query}) as window_rows")
            rows[mart] = cur.fetchone()[0]
        return rows


def run_checkpoint(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> CheckpointOutcome:
    """Validate the marts rows of [start, end) with the committed checkpoint."""
    started = time.monotonic()
    rows = set_validation_window(warehouse, start, end)
    os.environ[CONNECTION_ENV] = warehouse.sqlalchemy_url()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    result = context.checkpoints.get(CHECKPOINT).run()
    totals = {"evaluated_expectations": 0, "successful_expectations": 0, "unsuccessful_expectations": 0}
    failed = []
    for validation in result.run_results.values():
        for key in totals:
            totals[key] += int(validation.statistics.get(key, 0))
        for check in validation.results:
            if not check.success:
                config = check.expectation_config
                column = config.kwargs.get("column") or config.kwargs.get("column_A") or ""
                unexpected = check.result.get("unexpected_count")
                failed.append(
                    f"{validation.suite_name}: {config.type}({column})"
                    + (f", {unexpected} unexpected row(s)" if unexpected is not None else "")
                )
    totals["success_percent"] = (
        round(100 * totals["successful_expectations"] / totals["evaluated_expectations"], 1)
        if totals["evaluated_expectations"]
        else 100.0
    )
    docs = settings.gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return CheckpointOutcome(
        success=bool(result.success),
        seconds=time.monotonic() - started,
        statistics=totals,
        failed_expectations=failed,
        rows_validated=rows,
        data_docs=str(docs) if docs.exists() else None,
    )


if __name__ == "__main__":
    from orchestration.database import resolve_targets
    from orchestration.settings import load_settings

    settings = load_settings()
    build_gx_project(settings, resolve_targets(settings)[0])
    print("gx/ written; review and commit the JSON that changed")
