"""The analyst's edit loop (README, "Edit a model") on a tiny hand-worked dataset, all times 2026-03-10 UTC.

Save fct_sensor_hourly, change the rounding of avg_value from 6 decimals to 1 in a copy of the project,
rebuild the model and its children with --full-refresh, and let compare_with_saved list what differs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from orchestration.db.connection import drop_database, ensure_database
from orchestration.settings import library_environment
from orchestration.steps.dbt_runner import dbt_environment
from orchestration.steps.loader import load_raw
from tests.helpers import at, build, create_source_tables, edited_project, insert_sensor_rows, query

pytestmark = pytest.mark.slow

SENSOR_ROWS = [
    # S1 voltage, hour 10: mean (230 + 232 + 234) / 3 = 232 -> 232.000000 at 6 decimals and 232.0 at 1: same
    {"event_id": "v1", "sensor_id": "S1", "sensor_type": "voltage", "value": 230, "timestamp": at("10:00")},
    {"event_id": "v2", "sensor_id": "S1", "sensor_type": "voltage", "value": 232, "timestamp": at("10:01")},
    {"event_id": "v3", "sensor_id": "S1", "sensor_type": "voltage", "value": 234, "timestamp": at("10:02")},
    # S1 current, hour 10: mean 50 / 3 = 16.666... -> 16.666667 at 6 decimals, 16.7 at 1: changes
    {"event_id": "c1", "sensor_id": "S1", "sensor_type": "current", "value": 10, "timestamp": at("10:00")},
    {"event_id": "c2", "sensor_id": "S1", "sensor_type": "current", "value": 20, "timestamp": at("10:01")},
    {"event_id": "c3", "sensor_id": "S1", "sensor_type": "current", "value": 20, "timestamp": at("10:02")},
    # S2 frequency, hour 11: mean (50.00 + 50.01) / 2 = 50.005 -> 50.005000 at 6 decimals, 50.0 at 1: changes
    {"event_id": "f1", "sensor_id": "S2", "sensor_type": "frequency", "value": 50.00, "timestamp": at("11:00")},
    {"event_id": "f2", "sensor_id": "S2", "sensor_type": "frequency", "value": 50.01, "timestamp": at("11:01")},
    # S2 power, hour 10: one reading of -50.5 -> -50.500000 at 6 decimals, -50.5 at 1: same
    {"event_id": "p1", "sensor_id": "S2", "sensor_type": "power", "value": -50.5, "timestamp": at("10:30")},
]


def h(hhmm: str) -> datetime:
    return at(hhmm).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def built(settings, warehouse, source):
    """Fresh databases with SENSOR_ROWS loaded and every model built (no meter rows: those marts are empty)."""
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    create_source_tables(source)
    insert_sensor_rows(source, SENSOR_ROWS)
    load_raw(warehouse, source, at("10:00"), at("+1 00:00"))
    build(settings, warehouse)
    return warehouse


def test_every_column_of_every_built_model_is_documented(settings, built):
    from orchestration.report.views import ensure_views

    ensure_views(settings, built)  # the grid report's views, which the hourly build leaves out
    manifest = json.loads((settings.dbt_project_dir / "target" / "manifest.json").read_text())
    documented = {
        (node["schema"], node["alias"]): set(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    built_columns: dict[tuple, set] = {}
    for schema, table, column in query(
        built,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('staging', 'intermediate', 'audit', 'marts', 'reports')",
    ):
        if (schema, table) in documented:  # audit.validation_window belongs to the GX step, not dbt
            built_columns.setdefault((schema, table), set()).add(column)
    assert built_columns == documented
    assert len(documented) >= 8


def test_compare_lists_exactly_the_rows_a_rounding_change_alters(settings, built, tmp_path, capsys):
    def operation(project_settings, macro: str) -> str:
        """`make compare-save` / `make compare` for the project at project_settings; returns what it printed."""
        from dbt.cli.main import dbtRunner

        args = ["run-operation", macro, "--args", "{model_name: fct_sensor_hourly}"]
        with library_environment(dbt_environment(project_settings, built)):
            result = dbtRunner().invoke([*args, "--project-dir", str(project_settings.dbt_project_dir)])
        assert result.success, result.exception
        return capsys.readouterr().out

    assert "saved 4 rows" in operation(settings, "save_for_compare")

    # the analyst's change, made in a copy of the project so the repository stays as it is
    def one_decimal(sql: str) -> str:
        assert sql.count("round(avg(value), 6)") == 1
        return sql.replace("round(avg(value), 6)", "round(avg(value), 1)")

    changed_project = edited_project(settings, tmp_path, "marts/grid/fct_sensor_hourly.sql", one_decimal)
    build(changed_project, built, "--select", "fct_sensor_hourly+", "--full-refresh")

    # and two rows the saved copy differs in by hand: S1 voltage missing (-> added), an S9 row extra (-> removed)
    run_sql(built, "delete from compare.fct_sensor_hourly where sensor_id = 'S1' and sensor_type = 'voltage'")
    run_sql(
        built,
        "insert into compare.fct_sensor_hourly (sensor_id, sensor_type, hour_start, reading_count, avg_value, "
        "min_value, max_value) values ('S9', 'voltage', '2026-03-10 12:00+00', 1, 231, 231, 231)",
    )

    printed = operation(changed_project, "compare_with_saved")

    # saved: 4 rows - S1 voltage + S9 = 4; now: the 4 sensor-hours of SENSOR_ROWS
    assert "fct_sensor_hourly: 4 rows saved, 4 rows now; by (sensor_id, sensor_type, hour_start): " in printed
    assert "2 changed, 1 added, 1 removed" in printed
    assert query(
        built,
        "select sensor_id, sensor_type, hour_start, column_name, before_value, after_value "
        "from compare.fct_sensor_hourly__changed_values order by 1, 2, 3",
    ) == [
        ("S1", "current", h("10:00"), "avg_value", "16.666667", "16.700000"),
        ("S2", "frequency", h("11:00"), "avg_value", "50.005000", "50.000000"),
    ]
    assert query(
        built,
        "select change, version, sensor_id, sensor_type, hour_start from compare.fct_sensor_hourly__changes "
        "order by 3, 4, 5, 2 desc",
    ) == [
        ("changed", "before", "S1", "current", h("10:00")),
        ("changed", "after", "S1", "current", h("10:00")),
        ("added", "after", "S1", "voltage", h("10:00")),
        ("changed", "before", "S2", "frequency", h("11:00")),
        ("changed", "after", "S2", "frequency", h("11:00")),
        ("removed", "before", "S9", "voltage", h("12:00")),
    ]


def run_sql(target, sql: str) -> None:
    from orchestration.db.connection import connected

    with connected(target) as conn, conn.cursor() as cur:
        cur.execute(sql)
