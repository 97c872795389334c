"""Read the report's views for one window. Every query the report makes is a dbt model in
dbt_smartgrid/models/reports/; this module only cuts each view to the window, one way per kind of time column,
and names the window in the session (smartgrid.report_start / smartgrid.report_end) for the views that count
hours inside it (rpt_meter_data_quality_daily). Days are local days (dbt var local_time_zone); hours and runs
are absolute times, shown in local time by the charts (`local_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from orchestration.db.connection import connected
from orchestration.report.views import SCHEMA
from orchestration.settings import DbTarget


@dataclass(frozen=True)
class WindowCut:
    """How a view meets the window [start, end): `hour` and `day` are a timestamptz or date column inside it;
    `run` keeps the runs whose own window [window_start, window_end) overlaps it; `all` is not cut (where things
    stand now)."""

    kind: str  # hour | day | run | all
    order_by: str


VIEWS = {
    "rpt_fleet_energy_hourly": WindowCut("hour", "hour_start"),
    "rpt_customer_energy_daily": WindowCut("day", "day, customer_id"),
    "rpt_meter_data_quality_daily": WindowCut("day", "meter_id, day"),
    "rpt_vee_exceptions_daily": WindowCut("day", "day, reason_code"),
    "rpt_sensor_power_quality_hourly": WindowCut("hour", "sensor_id, hour_start"),
    "rpt_power_quality_bands_hourly": WindowCut("hour", "sensor_type, sensor_id, hour_start"),
    "rpt_rejected_readings_daily": WindowCut("day", "day, source_table, reason_code"),
    "rpt_dq_scores": WindowCut("run", "checked_at, run_id"),
    "rpt_failed_checks": WindowCut("run", "checked_at desc, severity, check_name"),
    "rpt_run_step_durations": WindowCut("run", "recorded_at, run_id, step"),
    "rpt_transformer_loading_hourly": WindowCut("hour", "transformer_id, hour_start"),
    "rpt_sensor_sites": WindowCut("all", "sensor_id"),
}

CONDITIONS = {
    "hour": "hour_start >= %(start)s and hour_start < %(end)s",
    "day": "day >= %(first_day)s and day < %(end_day)s",
    "run": "window_end > %(start)s and window_start < %(end)s",
    "all": "true",
}


def window_parameters(start: datetime, end: datetime, zone: str = "UTC") -> dict:
    """The window [start, end) (naive UTC) as query parameters; its days are the local days in `zone` it touches."""
    first, last = (local_time(t, zone) for t in (start, end - timedelta(microseconds=1)))
    return {
        "start": f"{start.isoformat()}+00:00",
        "end": f"{end.isoformat()}+00:00",
        "first_day": first.date(),
        "end_day": last.date() + timedelta(days=1),
    }


def plain(value):
    """Numbers as floats and times as naive UTC, as the figures use them."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - (value.utcoffset() or timedelta())
    return value


def name_window(cur, parameters: dict) -> None:
    """Name the window in the session, for the views that count hours inside it (macros/report_window.sql)."""
    cur.execute("select set_config('smartgrid.report_start', %(start)s, false), "
                "set_config('smartgrid.report_end', %(end)s, false)", parameters)  # fmt: skip


def fetch_window(warehouse: DbTarget, start: datetime, end: datetime, zone: str = "UTC") -> dict[str, list[dict]]:
    """Each view's rows in the window, as dicts, in the view's reading order."""
    parameters = window_parameters(start, end, zone)
    rows: dict[str, list[dict]] = {}
    with connected(warehouse, application="smartgrid-report") as conn, conn.cursor() as cur:
        name_window(cur, parameters)
        for view, cut in VIEWS.items():
            cur.execute(
                f"select * from {SCHEMA}.{view} where {CONDITIONS[cut.kind]} order by {cut.order_by}", parameters
            )
            names = [column.name for column in cur.description]
            rows[view] = [{n: plain(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]
    return rows


def day_text(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%d")


def hour_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def local_time(value: datetime, zone: str) -> datetime:
    """Naive UTC -> aware local time in `zone`."""
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


def local_midnight(day: date, zone: str) -> datetime:
    """The start of local day `day` in `zone`, as naive UTC."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return midnight.astimezone(UTC).replace(tzinfo=None)


def local_text(value: datetime, zone: str, seconds: bool = False) -> str:
    """Naive UTC -> the local wall clock with its zone's abbreviation ("2026-10-25 02:00 CEST"): unique also
    in the hour the clock repeats in autumn, so hours and runs are a category axis in local time."""
    local = local_time(value, zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")
