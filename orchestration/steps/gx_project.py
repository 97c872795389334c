"""The Great Expectations project, defined in code: window queries, suites, and writing them into gx/.

`smartgrid gx build` writes the data source, assets, suites, validation definitions and the
checkpoint into the file context in `gx/` (commit the JSON it writes). A run writes its window into
`audit.validation_window` (the window the views show) and (re)creates one view per window query,
`audit.<relation>_window`, which reads raw or a mart between the window's bounds, written into the view as constants;
GX's assets are those views, so one committed checkpoint validates any window (no partitioner to round-trip through
the file context). Views, not query assets: GX learns a query asset's columns by running the whole query (0.7 s
for a utility-S hour of raw), a view's from the catalog. Constant bounds, not a look-up of the window table: the
planner then knows that a utility-S hour's raw sensor window holds 480,968 rows and reads it with 2 processes (a
subquery's bounds left it guessing 7,215 and reading alone).

dbt tests keep the contracts (keys, accepted values, the energy invariant); GX checks that the rows are
plausible: row by row in raw (clock, NaN, units), in aggregate in the marts. Exactly-once is raw's unique index on
event_id, which dbt's source tests check again on every load's rows; GX does not count it a third time (2.4 s).
Every expectation is `critical` (GX's default: a failure fails the run) or `warning` (recorded and shown, the run
goes on). Import time: great_expectations takes ~8 s, so it is imported only inside functions.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from orchestration.db.connection import connected
from orchestration.settings import DbTarget, Settings
from orchestration.steps import background_imports, dbt_project
from orchestration.steps.dbt_project import project_vars
from orchestration.window import to_utc_naive

DATA_SOURCE = "smartgrid_warehouse"
CONNECTION_ENV = "SMARTGRID_WAREHOUSE_URL"  # a config variable given to GX in memory; the password never reaches gx/
CHECKPOINT = "run_window"
WINDOW_TABLE = "audit.validation_window"
WINDOW_SCHEMA = "audit"  # the window views: audit.<relation>_window
# Only counts, no sample of failing values: each sample was one more scan of the window (1.4 s of a utility-S hour),
# even when nothing failed. audit.dq_run_results records the counts; the failing rows are in raw and in
# audit.rejected_readings with their reasons.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
# GX's sessions read each window in heap order, never in index order: a bitmap scan reads each heap page of the
# window once, and in parallel. In `"timestamp"` order (when the window's bounds were a subquery the planner guessed
# 65,000 rows) a utility-S hour's 480,959 sensor rows took 128,469 buffer reads, against 11,099. With the bounds now
# constants, it mainly keeps GX's wrapping queries from walking another whole index, as a uniqueness check once did
# (raw's event_id index: 32 s after 14 days).
GX_SESSION = {"enable_indexscan": "off", "enable_indexonlyscan": "off"}


RAW_RELATIONS = ("raw_sensor_data", "raw_meter_readings")  # raw.sensor_data, raw.meter_readings


def checked_relations(settings: Settings) -> list[str]:
    """The relations the checkpoint validates, raw's two tables first: `audit.<relation>_window` each."""
    return [*RAW_RELATIONS, *(mart for mart, _ in _checked_marts(settings))]


def _checked_marts(settings: Settings) -> list[tuple[str, str]]:
    """(mart, the column naming its period) the checkpoint validates, the hourly marts first (steps/dbt_project.py)."""
    return sorted(dbt_project.checkpoint_marts(settings).items(), key=lambda item: (item[1] != "hour_start", item[0]))


def window_queries(settings: Settings, start: datetime, end: datetime) -> dict[str, str]:
    """One query per checked relation over [start, end) (naive UTC): the window's raw rows (with the few derived
    columns the row-level expectations need, in floating point: numeric arithmetic on each row doubled the time of a
    raw window's query) and the window's rows of every mart the dbt manifest lists (steps/dbt_project.py)."""
    ranges = project_vars(settings)["sensor_ranges"]  # docs/data-contract.md §3's physical ranges
    in_range = " ".join(f"when '{kind}' then value between {low} and {high}" for kind, (low, high) in ranges.items())
    low, high = (f"timestamp '{to_utc_naive(at).isoformat(' ', 'microseconds')}'" for at in (start, end))
    raw_window = f'where "timestamp" >= {low} and "timestamp" < {high}'
    queries = {  # RAW_RELATIONS
        "raw_sensor_data": (
            "select event_id, sensor_id, sensor_type, "
            "value = 'NaN' as is_nan, "
            f"case when value = 'NaN' then null else case sensor_type {in_range} end end as is_in_physical_range, "
            "date_part('epoch', \"timestamp\" - created_at) as seconds_ahead_of_arrival "
            f"from raw.sensor_data {raw_window}"
        ),
        "raw_meter_readings": (
            "select event_id, meter_id, "
            "reading = 'NaN' as is_nan, "
            "case when reading = 'NaN' then null else reading end as reading, "
            "lower(coalesce(unit, 'kWh')) as unit_normalized, "
            "date_part('epoch', \"timestamp\" - created_at) as seconds_ahead_of_arrival, "
            "date_part('minute', \"timestamp\")::integer % 15 * 60 + date_part('second', \"timestamp\") "
            "as seconds_off_quarter_hour "
            f"from raw.meter_readings {raw_window}"
        ),
    }
    low_utc, high_utc = f"({low} at time zone 'UTC')", f"({high} at time zone 'UTC')"  # timestamptz
    for mart, period in _checked_marts(settings):
        if period != "hour_start":  # a UTC day, or a local day in the project's time zone
            zone = "UTC" if period == "day" else project_vars(settings)["local_time_zone"]
            queries[mart] = (
                f"select * from marts.{mart} "
                f"where {period} >= ({low_utc} at time zone '{zone}')::date "
                f"and {period} <= (({high_utc} - interval '1 microsecond') at time zone '{zone}')::date"
            )
        else:
            queries[mart] = f"select * from marts.{mart} where hour_start >= {low_utc} and hour_start < {high_utc}"
    return queries


def suites(settings: Settings) -> dict:
    """Expectations per window query: row plausibility in raw, aggregate plausibility in the marts.

    Severity: critical (the default) fails the run; warning is recorded in audit.dq_run_results and shown
    in the run's artifact, and the run goes on. `mostly` is the share of rows that must pass.
    """
    import great_expectations.expectations as gxe

    warn = {"severity": "warning"}
    clock = project_vars(settings)["future_tolerance_minutes"] * 60  # seconds a clock may run ahead
    return {
        "raw_sensor_data": [
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **warn),  # an empty window: freshness
            # docs/data-contract.md §3 rejects these rows one by one; more than 1 % of them means a broken
            # gateway or feed
            gxe.ExpectColumnValuesToBeInSet(
                column="sensor_type", value_set=["voltage", "current", "power", "frequency"], mostly=0.99, **warn
            ),
            gxe.ExpectColumnValuesToBeInSet(column="is_nan", value_set=[False], mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeInSet(column="is_in_physical_range", value_set=[True], mostly=0.99, **warn),
            # clock: measured more than 5 minutes after it arrived
            gxe.ExpectColumnValuesToBeBetween(column="seconds_ahead_of_arrival", max_value=clock, mostly=0.99, **warn),
        ],
        "raw_meter_readings": [
            gxe.ExpectTableRowCountToBeBetween(min_value=1, **warn),
            gxe.ExpectColumnValuesToBeInSet(column="is_nan", value_set=[False], mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeBetween(column="reading", min_value=0, mostly=0.99, **warn),
            gxe.ExpectColumnValuesToBeInSet(
                column="unit_normalized", value_set=["kwh", "wh", "mwh"], mostly=0.99, **warn
            ),
            gxe.ExpectColumnValuesToBeBetween(column="seconds_ahead_of_arrival", max_value=clock, mostly=0.99, **warn),
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
        "fct_customer_consumption_daily_local": [
            gxe.ExpectColumnValuesToBeBetween(column="consumption_kwh", min_value=0, max_value=125000),  # 25 h
            gxe.ExpectColumnValuesToBeBetween(column="meter_count", min_value=1, max_value=1000),
            gxe.ExpectColumnValuesToBeInSet(column="hours_in_day", value_set=[23, 24, 25]),
        ],
    }


def gx_context(settings: Settings, warehouse: DbTarget):
    """The file context in gx/, with the warehouse URL (password included) as a runtime config variable.

    A run's checkpoint and `make gx-docs` reach GX through here first, so this is where a background import
    of it (steps/background_imports.py) is waited for."""
    background_imports.wait("great_expectations")
    import great_expectations as gx

    # the assets name the window views without a schema (GX deprecates schema_name): GX's sessions look in audit
    runtime = {CONNECTION_ENV: warehouse.sqlalchemy_url(session={"search_path": WINDOW_SCHEMA} | GX_SESSION)}
    return gx.get_context(mode="file", project_root_dir=str(settings.gx_root), runtime_environment=runtime)


def build_gx_project(settings: Settings, warehouse: DbTarget) -> None:
    """(Re)write the data source, assets, suites, validation definitions and checkpoint into gx/.

    GX tests the connection and the queries while adding them, so the marts must exist in `warehouse`.
    """
    set_validation_window(settings, warehouse, datetime(2000, 1, 1), datetime(2000, 1, 1, 1))
    context = gx_context(settings, warehouse)
    import great_expectations as gx

    source = context.data_sources.add_or_update_postgres(
        name=DATA_SOURCE, connection_string="${" + CONNECTION_ENV + "}"
    )
    validation_definitions = []
    expectations_of = suites(settings)
    for relation in checked_relations(settings):
        expectations = expectations_of.get(relation, [])
        name = f"{relation}_window"
        with contextlib.suppress(LookupError):
            source.delete_asset(name)
        asset = source.add_table_asset(name=name, table_name=name)  # audit.<name>: gx_context's search_path
        batch = asset.add_batch_definition_whole_table("window")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=name, expectations=expectations))
        validation_definitions.append(
            context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        )
    context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=validation_definitions,
            # no UpdateDataDocsAction: its index page re-reads every stored result, so each run got slower as
            # results piled up (44 s after 20 runs); `make gx-docs` builds the site when someone wants it
            actions=[],
            result_format=RESULT_FORMAT,
        )
    )


def set_validation_window(settings: Settings, warehouse: DbTarget, start: datetime, end: datetime) -> None:
    """Write the window the checkpoint reads, and (re)create the views over it that GX's assets name.

    Dropped and created on every run: a view over a mart goes when dbt replaces the mart (`drop ... cascade`), and
    a mart's new column changes `select *`."""
    with connected(warehouse, application="smartgrid-quality") as conn, conn.cursor() as cur:
        cur.execute(f"create schema if not exists {WINDOW_SCHEMA}")
        cur.execute(
            f"create table if not exists {WINDOW_TABLE} "
            "(window_start timestamptz not null, window_end timestamptz not null)"
        )
        cur.execute(f"delete from {WINDOW_TABLE}")
        cur.execute(f"insert into {WINDOW_TABLE} values (%s at time zone 'UTC', %s at time zone 'UTC')", (start, end))
        for relation, query in window_queries(settings, start, end).items():
            cur.execute(f"drop view if exists {WINDOW_SCHEMA}.{relation}_window")
            cur.execute(f"create view {WINDOW_SCHEMA}.{relation}_window as {query}")


def window_rows(settings: Settings, warehouse: DbTarget) -> dict[str, int]:
    """The rows of each window view (set_validation_window)."""
    with connected(warehouse, application="smartgrid-quality") as conn, conn.cursor() as cur:
        rows = {}
        for relation in checked_relations(settings):
            cur.execute(f"select count(*) from {WINDOW_SCHEMA}.{relation}_window")
            rows[relation] = cur.fetchone()[0]
        return rows


def build_data_docs(settings: Settings, warehouse: DbTarget) -> list[str]:
    """`smartgrid gx docs`: the Great Expectations site over every stored validation result; returns its pages."""
    return list(gx_context(settings, warehouse).build_data_docs().values())
