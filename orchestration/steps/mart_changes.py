"""What a run changed, for its report: rows and hours rebuilt per mart, rejected rows by reason.

The marts and the column naming each row's hour (or day) come from the dbt manifest (steps/dbt_project.py).
"""

from __future__ import annotations

from datetime import datetime

from orchestration.db.connection import connected
from orchestration.results.model import MartRebuild
from orchestration.settings import DbTarget


def mart_watermarks(warehouse: DbTarget, marts: dict[str, str]) -> dict[str, datetime | None]:
    """Each mart's newest loaded_through (None when the mart does not exist yet)."""
    marks = {}
    with connected(warehouse, application="smartgrid-observability") as conn, conn.cursor() as cur:
        for mart in marts:
            cur.execute("select to_regclass(%s)", (f"marts.{mart}",))
            if cur.fetchone()[0] is None:
                marks[mart] = None
                continue
            cur.execute(f"select max(loaded_through) from marts.{mart}")
            marks[mart] = cur.fetchone()[0]
    return marks


def rebuilt_since(
    warehouse: DbTarget, marts: dict[str, str], before: dict[str, datetime | None]
) -> dict[str, MartRebuild]:
    """Rows (and distinct hours or days) each mart rewrote since `before` was taken."""
    rebuilt = {}
    with connected(warehouse, application="smartgrid-observability") as conn, conn.cursor() as cur:
        for mart, period in marts.items():
            cur.execute(
                f"select count(*), count(distinct {period}) from marts.{mart} "
                "where loaded_through > coalesce(%s, '-infinity'::timestamptz)",
                (before.get(mart),),
            )
            rows, periods = cur.fetchone()
            rebuilt[mart] = MartRebuild(rows=rows, **{"hours" if period == "hour_start" else "days": periods})
    return rebuilt


def rejected_by_reason(warehouse: DbTarget, loaded_at: datetime) -> dict[str, int]:
    """Rows of one load (loaded at or after `loaded_at`, its earliest table) that the validity rules rejected."""
    with connected(warehouse, application="smartgrid-observability") as conn, conn.cursor() as cur:
        cur.execute(
            "select reason_code, count(*) from audit.rejected_readings where loaded_at >= %s "
            "group by 1 order by 2 desc",
            (loaded_at,),
        )
        return dict(cur.fetchall())
