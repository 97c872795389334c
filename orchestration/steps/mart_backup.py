"""All-or-nothing marts: undo a failed `dbt build`'s changes to the marts.

dbt builds the marts one after another, so a test failing on one mart would leave it updated and the marts
after it skipped. The project's delete+insert (dbt_smartgrid/macros/smartgrid_delete_insert.sql) copies the rows
of a mart it is about to replace into a table of the same name and columns in the schema `mart_backup`
(`create table ... as`: typed rows, about ten times faster than one jsonb row per mart row); after a failed
build, `restore` deletes the rows the build wrote (their `loaded_through` is newer than before the build) and
puts the replaced rows back, in one transaction. Runs hold the pipeline lock, so one backup set exists at a time.
"""

from __future__ import annotations

from datetime import datetime

from orchestration.db.connection import connected
from orchestration.settings import DbTarget

BACKUP_SCHEMA = "mart_backup"
ENV = {"SMARTGRID_MART_BACKUP": "1"}


def clear(warehouse: DbTarget) -> None:
    """An empty backup schema before the build. Created here, not by dbt: the marts build in parallel threads,
    and two concurrent `create schema if not exists` collide in pg_namespace. Each mart's table is then created
    by its own model (one thread per table), with the mart's columns as they are at that moment."""
    with connected(warehouse, application="smartgrid-mart-backup") as conn, conn.cursor() as cur:
        _empty_backup_schema(cur)
        cur.execute("drop table if exists audit.mart_backup")  # its jsonb predecessor, in warehouses built before


def restore(warehouse: DbTarget, watermarks_before: dict[str, datetime | None]) -> dict[str, int]:
    """Return each mart to its state before the build; return rows put back per mart."""
    restored = {}
    with connected(warehouse, application="smartgrid-mart-backup") as conn, conn.cursor() as cur:
        for mart, before in watermarks_before.items():
            cur.execute("select to_regclass(%s)", (f"marts.{mart}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                f"delete from marts.{mart} where loaded_through > coalesce(%s, '-infinity'::timestamptz)", (before,)
            )
            restored[mart] = 0
            columns = backed_up_columns(cur, mart)
            if columns:
                listed = ", ".join(f'"{c}"' for c in columns)
                cur.execute(f'insert into marts.{mart} ({listed}) select {listed} from {BACKUP_SCHEMA}."{mart}"')
                restored[mart] = cur.rowcount
        _empty_backup_schema(cur)
    return restored


def _empty_backup_schema(cur) -> None:
    cur.execute(f"drop schema if exists {BACKUP_SCHEMA} cascade")
    cur.execute(f"create schema {BACKUP_SCHEMA}")


def backed_up_columns(cur, mart: str) -> list[str]:
    """The columns of the mart's backup table, in order; none when this build backed up nothing of it."""
    cur.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position",
        (BACKUP_SCHEMA, mart),
    )
    return [name for (name,) in cur.fetchall()]
