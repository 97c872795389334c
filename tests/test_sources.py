"""The source tables' columns are declared once (orchestration/sources.py): the DDL of the source and of raw, the
loader's and the simulator's column lists come from it, and dbt's source definition lists the same columns."""

from __future__ import annotations

import psycopg2
import pytest
import yaml

from orchestration.sources import NETWORK_COLUMNS, SOURCE_COLUMNS
from orchestration.steps.loader import load_raw
from tests.helpers import at, insert_meter_rows, insert_sensor_rows, query

# hand-copied from docs/data-contract.md §1, so that a change to sources.py is a change to the contract too
CONTRACT = {
    "sensor_data": "id event_id sensor_id sensor_type value latitude longitude timestamp metadata created_at",
    "meter_readings": "id event_id meter_id customer_id reading unit timestamp created_at",
    "transformers": "id transformer_id feeder_id rated_kva latitude longitude valid_from created_at",
    "meter_connections": "id meter_id transformer_id valid_from created_at",
}


def test_the_declaration_is_the_contracts_columns():
    declared = {**SOURCE_COLUMNS, **NETWORK_COLUMNS}
    assert {table: " ".join(columns) for table, columns in declared.items()} == CONTRACT


def test_dbt_source_lists_the_declared_columns_in_order(settings):
    path = settings.dbt_project_dir / "models" / "staging" / "ops" / "_ops__sources.yml"
    (source,) = yaml.safe_load(path.read_text())["sources"]
    in_dbt = {table["name"]: tuple(column["name"] for column in table["columns"]) for table in source["tables"]}
    declared = {**SOURCE_COLUMNS, **NETWORK_COLUMNS}
    assert in_dbt == {table: (*columns, "_load_id", "_loaded_at") for table, columns in declared.items()}


def test_the_generated_tables_have_the_declared_columns(fresh_databases):
    """Source and raw as PostgreSQL made them from the generated DDL: names, order, types, nullability."""
    from orchestration.db.connection import connected
    from orchestration.steps.loader import raw_ddl

    warehouse, source = fresh_databases
    with connected(warehouse) as conn, conn.cursor() as cur:
        cur.execute(raw_ddl())
    columns = (
        "select column_name, data_type, is_nullable, column_default is not null from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position"
    )
    meters_in_source = query(source, columns, ("public", "meter_readings"))
    assert [c[0] for c in meters_in_source] == CONTRACT["meter_readings"].split()
    assert meters_in_source[0] == ("id", "bigint", "NO", True)  # bigserial: a sequence default
    assert meters_in_source[5] == ("unit", "character varying", "YES", True)  # default 'kWh'
    sensors_in_raw = query(warehouse, columns, ("raw", "sensor_data"))
    assert [c[0] for c in sensors_in_raw] == [*CONTRACT["sensor_data"].split(), "_load_id", "_loaded_at"]
    assert sensors_in_raw[0] == ("id", "bigint", "NO", False)  # raw keeps the source's ids: no sequence
    assert sensors_in_raw[4] == ("value", "numeric", "NO", False)
    assert sensors_in_raw[-1] == ("_loaded_at", "timestamp with time zone", "NO", False)


def test_raw_refuses_a_second_row_with_an_event_id_and_a_row_without_one(fresh_databases):
    """raw's event_id is `not null unique` (the loader's `on conflict (event_id)` needs the index): the dbt project
    relies on it instead of a unique and a not_null test of event_id in every hourly build."""
    warehouse, source = fresh_databases
    insert_sensor_rows(source, [{"event_id": "s1", "sensor_id": "S1", "sensor_type": "voltage", "value": 230.5,
                                 "timestamp": at("01:10")}])  # fmt: skip
    insert_meter_rows(source, [{"event_id": "m1", "meter_id": "M1", "customer_id": "C1", "reading": 10.0,
                                "timestamp": at("01:15")}])  # fmt: skip
    load_raw(warehouse, source, at("01:00"), at("02:00"))
    for table, event_id in (("sensor_data", "s1"), ("meter_readings", "m1")):
        with pytest.raises(psycopg2.errors.UniqueViolation):
            query(warehouse, f"insert into raw.{table} select * from raw.{table}; select 1")
        with pytest.raises(psycopg2.errors.NotNullViolation):
            query(warehouse, f"update raw.{table} set event_id = null; select 1")
        assert query(warehouse, f"select event_id from raw.{table}") == [(event_id,)]
