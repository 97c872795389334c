"""The dbt project as an analyst reads it (docs, lineage, contracts, selectors), checked on the parsed manifest.

No data needed: `dbt parse` and `dbt ls` read the project only.
"""

from __future__ import annotations

from tests.dbt_commands import dbt_result, models

MARTS = {
    # mart: its grain, hand-copied from docs/data-contract.md §4
    "fct_sensor_hourly": ["sensor_id", "sensor_type", "hour_start"],
    "fct_meter_consumption_hourly": ["meter_id", "hour_start"],
    "fct_customer_consumption_daily": ["customer_id", "day"],
}
NETWORK_MARTS = {
    "fct_transformer_loading_hourly": ["transformer_id", "hour_start"],
    "fct_feeder_loading_hourly": ["feeder_id", "hour_start"],
}
# the grid report's views, one per chart (models/reports), and the audit tables the pipeline writes from Python
REPORT_VIEWS = {
    "rpt_fleet_energy_hourly",
    "rpt_customer_energy_daily",
    "rpt_meter_data_quality_daily",
    "rpt_vee_exceptions_daily",
    "rpt_sensor_power_quality_hourly",
    "rpt_power_quality_bands_hourly",
    "rpt_rejected_readings_daily",
    "rpt_dq_scores",
    "rpt_failed_checks",
    "rpt_run_step_durations",
    "rpt_transformer_loading_hourly",
    "rpt_sensor_sites",
}
RUN_AUDIT_TABLES = ("dq_run_results", "dq_run_scores", "run_steps")


def generic_tests_of(manifest, model) -> list:
    return [
        node
        for node in manifest.nodes.values()
        if node.resource_type == "test" and getattr(node, "attached_node", None) == model.unique_id
    ]


def test_every_source_model_and_column_is_described_and_models_state_their_grain_first(manifest):
    undescribed = []
    for source in manifest.sources.values():
        for what, text in [(source.source_name, source.source_description), (source.name, source.description)]:
            if not text.strip():
                undescribed.append(f"source {what}")
        undescribed += [f"{source.name}.{c.name}" for c in source.columns.values() if not c.description.strip()]
    for model in models(manifest).values():
        if not model.description.startswith("One row per "):
            undescribed.append(f"{model.name}: description does not start with its grain ('One row per ...')")
        undescribed += [f"{model.name}.{c.name}" for c in model.columns.values() if not c.description.strip()]
    assert undescribed == []
    # the source tables and all eight models are there to be described (a vacuous pass is impossible)
    assert {s.name for s in manifest.sources.values()} == {
        "sensor_data", "meter_readings", "transformers", "meter_connections", *RUN_AUDIT_TABLES
    }  # fmt: skip
    assert len(models(manifest)) >= 8


def test_marts_enforce_their_contract_and_their_primary_key(manifest):
    """A mart's key is a unique index on columns with a not_null constraint (the table refuses a duplicate or
    null key; tests/test_marts.py shows it), not a unique and a not_null test node in every hourly build."""
    by_name = models(manifest)
    for mart, grain in (MARTS | NETWORK_MARTS).items():
        model = by_name[mart]
        assert model.config.contract.enforced, mart
        assert model.config.on_schema_change in ("append_new_columns", "fail"), mart
        assert [c.name for c in model.columns.values() if not c.data_type] == [], mart
        unique_indexes = [index["columns"] for index in model.config.get("indexes", []) if index.get("unique")]
        assert unique_indexes == [list(grain)], mart
        not_null = {c.name for c in model.columns.values() if any(k.type == "not_null" for k in c.constraints)}
        assert set(grain) <= not_null, mart
    # a customer-day sums exactly its meter-hours: the daily run's check over the days it rebuilt (a relationships
    # test to the hourly mart read all of history every hour)
    check = manifest.nodes["test.smartgrid.assert_customer_days_sum_their_meter_hours"]
    assert "daily_run" in check.tags
    assert {by_name["fct_customer_consumption_daily"].unique_id, by_name["fct_meter_consumption_hourly"].unique_id} == (
        set(check.depends_on.nodes)
    )
    daily = generic_tests_of(manifest, by_name["fct_customer_consumption_daily"])
    assert [t for t in daily if t.test_metadata.name == "relationships"] == []


def test_lineage_runs_from_both_sources_to_the_three_marts_without_orphans(manifest):
    children: dict[str, set[str]] = {}
    for node in [*manifest.nodes.values(), *manifest.exposures.values()]:
        if node.resource_type in ("model", "exposure"):
            for parent in node.depends_on.nodes:
                children.setdefault(parent, set()).add(node.unique_id)

    def downstream(unique_id: str) -> set[str]:
        seen, todo = set(), [unique_id]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    from_sensors = downstream("source.smartgrid.ops.sensor_data")
    from_meters = downstream("source.smartgrid.ops.meter_readings")
    from_run_audit = set().union(*(downstream(f"source.smartgrid.run_audit.{t}") for t in RUN_AUDIT_TABLES))
    from_transformers = downstream("source.smartgrid.ops.transformers")
    from_connections = downstream("source.smartgrid.ops.meter_connections")
    assert {f"model.smartgrid.{mart}" for mart in NETWORK_MARTS} <= from_transformers & from_connections & from_meters
    assert "model.smartgrid.fct_sensor_hourly" in from_sensors
    assert {"model.smartgrid.fct_meter_consumption_hourly", "model.smartgrid.fct_customer_consumption_daily"} <= (
        from_meters
    )
    for model in models(manifest).values():
        # every model is fed by a source and feeds another model or a named consumer (an exposure)
        sourced = from_sensors | from_meters | from_run_audit | from_transformers | from_connections
        assert model.unique_id in sourced, f"{model.name} has no source"
        assert children.get(model.unique_id), f"{model.name} has no model or exposure downstream"

    exposures = {e.name: {manifest.nodes[n].name for n in e.depends_on.nodes} for e in manifest.exposures.values()}
    assert exposures == {
        "run_window_checkpoint": {*MARTS, "fct_customer_consumption_daily_local"},
        "hourly_etl_deployment": {*MARTS, *NETWORK_MARTS, "fct_customer_consumption_daily_local", "rejected_readings"},
        "daily_customer_report": {
            "fct_customer_consumption_daily",
            "fct_customer_consumption_daily_local",
            "dim_meter_customer_periods",
        },
        "meter_vee_review": {"meter_vee_exceptions", "fct_meter_consumption_hourly_vee", "rpt_meter_daily_local"},
        "grid_report": REPORT_VIEWS,
        "transformer_load_management": {*NETWORK_MARTS, "network_exceptions"},
    }
    assert all(e.description.strip() and e.owner.name for e in manifest.exposures.values())


def test_hourly_selector_builds_everything_but_the_report_and_daily_only_the_daily_marts_inputs(settings, warehouse):
    def selected(*args: str) -> set[str]:
        return set(dbt_result(settings, warehouse, "ls", *args, "--output", "name"))

    tests_and_models = ("--resource-type", "model", "--resource-type", "test", "--resource-type", "unit_test")
    everything = selected("--select", "fqn:*", *tests_and_models)
    unit_tests = selected("--resource-type", "unit_test")
    whole_history = selected("--selector", "daily_checks", *tests_and_models)
    daily_only = selected("--select", "tag:daily_run", *tests_and_models)
    assert daily_only == {
        "assert_meter_days_match_a_fresh_computation",
        "assert_customer_days_sum_their_meter_hours",
        "assert_meter_hours_sum_their_parts",  # what the hourly build has just summed from the same parts
    }
    assert REPORT_VIEWS.issubset(everything) and len(everything) > len(REPORT_VIEWS)
    # every model and data test, except the unit tests (make test), the checks that read all of history
    # (daily_checks), the daily run's own models and tests and the grid report's views (smartgrid report)
    hourly = selected("--selector", "hourly", *tests_and_models)
    assert hourly == everything - unit_tests - whole_history - daily_only - REPORT_VIEWS
    # the daily run: the hourly build, the daily models and tests, and the invariants (most also in the hourly build)
    assert selected("--selector", "daily_run", *tests_and_models) == hourly | daily_only
    assert "assert_interval_parts_add_up" in hourly and "assert_meter_hours_sum_their_parts" not in hourly
    assert selected(*tests_and_models) == everything - REPORT_VIEWS  # the default: all but the report
    assert selected("--selector", "report", *tests_and_models) == REPORT_VIEWS
    assert {"assert_meter_energy_is_conserved", "assert_vee_energy_matches_register"} <= whole_history
    assert "assert_interval_parts_add_up" in everything - whole_history
    assert unit_tests and not unit_tests & whole_history
    # not even the report's exposure: in a `dbt build` it is a no-op node
    assert "grid_report" in selected("--selector", "report") and "grid_report" not in selected("--selector", "hourly")
    assert selected("--selector", "daily", "--resource-type", "model") == {
        "stg_ops__meter_readings",
        "int_meter_readings_validated",
        "int_meter_intervals",
        "int_meter_interval_hours",
        "fct_meter_consumption_hourly",
        "fct_customer_consumption_daily",
    }


def test_incremental_models_are_ready_to_distribute_on_citus(manifest):
    """docs/scaling.md: on Citus every incremental model is distributed by the column in its meta; unique
    indexes must include that column, and the delete+insert key should too (a whole-key multi-shard delete is
    allowed only where the model says why)."""
    incremental = {name: node for name, node in models(manifest).items() if node.config.materialized == "incremental"}
    assert {"int_meter_intervals", "int_meter_interval_hours", "fct_meter_consumption_hourly"} <= set(incremental)
    for name, node in incremental.items():
        column = node.config.meta.get("distribution_column")
        assert column, f"{name}: no meta.distribution_column"
        assert column in node.columns or column in node.raw_code, f"{name}: distributes by unknown {column}"
        key = node.config.unique_key
        key = [key] if isinstance(key, str) else list(key)
        if column not in key:
            assert node.config.meta.get("multi_shard_delete"), f"{name}: unique_key {key} lacks {column}"
        for index in node.config.get("indexes") or []:
            if index.get("unique"):
                assert column in index["columns"], f"{name}: unique index {index['columns']} lacks {column}"


def test_the_marts_the_pipeline_backs_up_and_restores_come_from_the_manifest(settings):
    from orchestration.steps import dbt_project

    assert dbt_project.marts(settings) == {
        "fct_customer_consumption_daily": "day",
        "fct_customer_consumption_daily_local": "local_day",
        "fct_feeder_loading_hourly": "hour_start",
        "fct_meter_consumption_hourly": "hour_start",
        "fct_meter_hour_vee_adjustments": "hour_start",
        "fct_sensor_hourly": "hour_start",
        "fct_transformer_loading_hourly": "hour_start",
    }
    # the checkpoint validates all but the network marts (meta gx_window: false): a fleet without a network pays
    # nothing; and the VEE mart, a view (meta gx_window: true), instead of the adjustments it reads
    checkpoint = dbt_project.checkpoint_marts(settings)
    assert set(dbt_project.marts(settings)) - set(checkpoint) == {*NETWORK_MARTS, "fct_meter_hour_vee_adjustments"}
    assert set(checkpoint) - set(dbt_project.marts(settings)) == {"fct_meter_consumption_hourly_vee"}


def test_a_new_incremental_mart_is_picked_up_without_editing_python():
    from orchestration.steps.dbt_project import marts_in

    def model(name, schema, materialized, *columns):
        config = {"schema": schema, "materialized": materialized}
        return {"resource_type": "model", "name": name, "alias": name, "config": config,
                "columns": dict.fromkeys(columns)}  # fmt: skip

    manifest = {
        "nodes": {
            "model.smartgrid.fct_feeder_daily": model("fct_feeder_daily", "marts", "incremental", "feeder_id", "day"),
            "model.smartgrid.fct_x_hourly": model("fct_x_hourly", "marts", "incremental", "hour_start"),
            "model.smartgrid.rpt_view": model("rpt_view", "marts", "view", "day"),  # a view has nothing to restore
            "model.smartgrid.int_y": model("int_y", "intermediate", "incremental", "hour_start"),
        }
    }
    assert marts_in(manifest) == {"fct_feeder_daily": "day", "fct_x_hourly": "hour_start"}
    assert marts_in(manifest, checkpoint=True) == marts_in(manifest)  # a view only when its config asks for it:
    manifest["nodes"]["model.smartgrid.rpt_view"]["config"]["meta"] = {"gx_window": True}
    assert marts_in(manifest, checkpoint=True) == {**marts_in(manifest), "rpt_view": "day"}
