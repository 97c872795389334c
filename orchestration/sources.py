"""The operational database's two tables (docs/data-contract.md §1), declared once. Generated from this: the
source tables' DDL (the simulator and the tests create them; in production they belong to the ingestion
services), raw's copies of them (steps/loader.py adds `_load_id` and `_loaded_at`), the columns the loader copies
and the simulator writes. dbt's `_ops__sources.yml` lists the same columns (tests/test_sources.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the PostgreSQL type, the same in the source and in raw
    not_null: bool = False
    unique: bool = False
    source_only: str = ""  # what only the source table declares: its key, a default
    source_type: str = ""  # when the source declares another type (bigserial: a bigint with a sequence)


SOURCE_TABLES: dict[str, tuple[Column, ...]] = {
    "sensor_data": (
        Column("id", "bigint", not_null=True, source_type="bigserial", source_only="primary key"),
        Column("event_id", "varchar(255)", not_null=True, unique=True),
        Column("sensor_id", "varchar(100)", not_null=True),
        Column("sensor_type", "varchar(50)", not_null=True),
        Column("value", "numeric(10, 4)", not_null=True),
        Column("latitude", "numeric(10, 7)"),
        Column("longitude", "numeric(10, 7)"),
        Column("timestamp", "timestamp", not_null=True),
        Column("metadata", "jsonb"),
        Column("created_at", "timestamp", not_null=True, source_only="default (now() at time zone 'utc')"),
    ),
    "meter_readings": (
        Column("id", "bigint", not_null=True, source_type="bigserial", source_only="primary key"),
        Column("event_id", "varchar(255)", not_null=True, unique=True),
        Column("meter_id", "varchar(100)", not_null=True),
        Column("customer_id", "varchar(100)", not_null=True),
        Column("reading", "numeric(12, 4)", not_null=True),
        Column("unit", "varchar(10)", source_only="default 'kWh'"),
        Column("timestamp", "timestamp", not_null=True),
        Column("created_at", "timestamp", not_null=True, source_only="default (now() at time zone 'utc')"),
    ),
}
LOAD_COLUMNS = (Column("_load_id", "uuid", not_null=True), Column("_loaded_at", "timestamptz", not_null=True))
SOURCE_COLUMNS = {table: tuple(c.name for c in columns) for table, columns in SOURCE_TABLES.items()}


def _definition(column: Column, *, in_source: bool) -> str:
    parts = [f'"{column.name}"', column.source_type if in_source and column.source_type else column.type]
    parts += ["not null"] if column.not_null else []
    parts += ["unique"] if column.unique else []
    parts += [column.source_only] if in_source and column.source_only else []
    return " ".join(parts)


def _create(table: str, columns: tuple[Column, ...], *, in_source: bool) -> str:
    body = ",\n    ".join(_definition(c, in_source=in_source) for c in columns)
    return f"create table if not exists {table} (\n    {body}\n);\n"


def source_ddl() -> str:
    """The source tables, each with its index on "timestamp" (what the ingestion services' tables have)."""
    return "".join(
        _create(table, columns, in_source=True)
        + f'create index if not exists {table}_timestamp_idx on {table} ("timestamp");\n'
        for table, columns in SOURCE_TABLES.items()
    )


def raw_tables_ddl() -> str:
    """raw's copies: every source column with its source type (no key, no default), plus the load's columns."""
    return "".join(
        _create(f"raw.{table}", columns + LOAD_COLUMNS, in_source=False) for table, columns in SOURCE_TABLES.items()
    )


def insert_columns(table: str) -> str:
    """The columns a writer of the source table gives (all but the generated id), in declaration order."""
    return ", ".join(f'"{c.name}"' for c in SOURCE_TABLES[table] if c.name != "id")
