"""All-or-nothing marts: undo a failed `dbt build`'s changes to the marts.

dbt builds the marts one after another, so a test failing on one mart would leave it updated and the marts
after it skipped. The project's delete+insert (dbt_smartgrid/macros/mart_backup.sql) copies every mart row it
replaces into audit.mart_backup; after a failed build, `restore` deletes the rows the build wrote (their
`loaded_through` is newer than before the build) and puts the replaced rows back, in one transaction.
Runs hold the pipeline lock, so one backup set exists at a time.
"""

from __future__ import annotations

from datetime import datetime

from orchestration.db.connection import connected
from orchestration.settings import DbTarget

BACKUP_TABLE = "audit.mart_backup"
ENV = {"SMARTGRID_MART_BACKUP": "1"}


def clear(warehouse: DbTarget) -> None:
    """An empty backup table before the build. Created here, not first by dbt: the marts build in parallel
    threads, and two concurrent `create table if not exists` of a new table collide in pg_type."""
    with connected(warehouse, application="smartgrid-mart-backup") as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists audit")
        cur.execute(
            f"create table if not exists {BACKUP_TABLE} "
            "(mart text not null, row_data jsonb not null, backed_up_at timestamptz not null default now())"
        )
        cur.execute(f"truncate {BACKUP_TABLE}")


def restore(warehouse: DbTarget, watermarks_before: dict[str, datetime | None]) -> dict[str, int]:
    """Return each mart to its state before the build; return rows put back per mart."""
    restored = {}
    with connected(warehouse, application="smartgrid-mart-backup") as conn, conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (BACKUP_TABLE,))
        has_backup = cur.fetchone()[0] is not None
        for mart, before in watermarks_before.items():
            cur.execute("select to_regclass(%s)", (f"marts.{mart}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                f"delete from marts.{mart} where loaded_through > coalesce(%s, '-infinity'::timestamptz)", (before,)
            )
            restored[mart] = 0
            if has_backup:
                cur.execute(
                    f"insert into marts.{mart} select (jsonb_populate_record(null::marts.{mart}, row_data)).* "
                    f"from {BACKUP_TABLE} where mart = %s",
                    (mart,),
                )
                restored[mart] = cur.rowcount
        if has_backup:
            cur.execute(f"truncate {BACKUP_TABLE}")
    return restored
