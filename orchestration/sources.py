"""The operational database's tables (docs/data-contract.md §1), declared once: the two reading tables and the
two optional network tables. Generated from this: the source tables' DDL (the simulator and the tests create them;
in production they belong to the ingestion services and the GIS), raw's copies of them (steps/loader.py adds
`_load_id` and `_loaded_at`), the columns the loader copies and the simulator writes. dbt's `_ops__sources.yml`
lists the same columns (tests/test_sources.py checks it).
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
    raw_only: str = ""  # what only raw's copy declares (the network tables' id is unique in raw)


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
# The network (optional: a source without these tables loads as before, and the network marts stay empty).
# Append-only versions: a change is a new row with a later valid_from, a correction a new row with the same one.
NETWORK_TABLES: dict[str, tuple[Column, ...]] = {
    "transformers": (
        Column("id", "bigint", not_null=True, source_type="bigserial", source_only="primary key", raw_only="unique"),
        Column("transformer_id", "varchar(100)", not_null=True),
        Column("feeder_id", "varchar(100)"),
        Column("rated_kva", "numeric(10, 2)"),
        Column("latitude", "numeric(10, 7)"),
        Column("longitude", "numeric(10, 7)"),
        Column("valid_from", "timestamp", not_null=True),
        Column("created_at", "timestamp", not_null=True, source_only="default (now() at time zone 'utc')"),
    ),
    "meter_connections": (
        Column("id", "bigint", not_null=True, source_type="bigserial", source_only="primary key", raw_only="unique"),
        Column("meter_id", "varchar(100)", not_null=True),
        Column("transformer_id", "varchar(100)", not_null=True),
        Column("valid_from", "timestamp", not_null=True),
        Column("created_at", "timestamp", not_null=True, source_only="default (now() at time zone 'utc')"),
    ),
}
LOAD_COLUMNS = (Column("_load_id", "uuid", not_null=True), Column("_loaded_at", "timestamptz", not_null=True))
SOURCE_COLUMNS = {table: tuple(c.name for c in columns) for table, columns in SOURCE_TABLES.items()}
NETWORK_COLUMNS = {table: tuple(c.name for c in columns) for table, columns in NETWORK_TABLES.items()}


def _definition(column: Column, *, in_source: bool) -> str:
    parts = [f'"{column.name}"', column.source_type if in_source and column.source_type else column.type]
    parts += ["not null"] if column.not_null else []
    parts += ["unique"] if column.unique else []
    parts += [column.source_only] if in_source and column.source_only else []
    parts += [column.raw_only] if not in_source and column.raw_only else []
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


def network_source_ddl() -> str:
    """The optional network tables, each with its index on the key of its versions."""
    keys = {"transformers": "transformer_id", "meter_connections": "meter_id"}
    return "".join(
        _create(table, columns, in_source=True)
        + f"create index if not exists {table}_versions_idx on {table} ({keys[table]}, valid_from);\n"
        for table, columns in NETWORK_TABLES.items()
    )


def raw_tables_ddl() -> str:
    """raw's copies, the network's included (always there, empty without a network): every source column with its
    source type (no key, no default), plus the load's columns."""
    return "".join(
        _create(f"raw.{table}", columns + LOAD_COLUMNS, in_source=False)
        for table, columns in {**SOURCE_TABLES, **NETWORK_TABLES}.items()
    )


def insert_columns(table: str) -> str:
    """The columns a writer of the source table gives (all but the generated id), in declaration order."""
    return ", ".join(f'"{c.name}"' for c in {**SOURCE_TABLES, **NETWORK_TABLES}[table] if c.name != "id")
