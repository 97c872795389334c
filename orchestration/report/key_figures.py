"""The report's key figures: a dozen numbers for the top of the page and the flow run's table artifact."""

from __future__ import annotations

from datetime import datetime

from orchestration.report.chart import share
from orchestration.report.queries import hour_text


def figure(name: str, value, unit: str = "") -> dict:
    return {"figure": name, "value": value, "unit": unit}


def key_figures(rows: dict[str, list[dict]], start: datetime, end: datetime) -> list[dict]:
    """Numbers over the window, each with its unit; a figure with no data is None."""
    fleet = rows["rpt_fleet_energy_hourly"]
    meter_days = rows["rpt_meter_data_quality_daily"]
    sensor_hours = rows["rpt_sensor_power_quality_hourly"]
    runs = rows["rpt_dq_scores"]
    total = sum(row["vee_kwh"] for row in fleet)
    measured = sum(row["measured_kwh"] for row in fleet)
    peak = max(fleet, key=lambda row: row["vee_kwh"], default=None)
    hours_with_energy = sum(row["hours_in_day"] - row["hours_missing"] for row in meter_days)
    return [
        figure("window", f"{hour_text(start)} .. {hour_text(end)}", "UTC"),
        figure("fleet energy", round(total, 3), "kWh"),
        figure("estimated share of fleet energy", share(total - measured, total) if fleet else None, "%"),
        figure(
            "peak fleet hour" + (f" ({hour_text(peak['hour_start'])} UTC)" if peak else ""),
            round(peak["vee_kwh"], 3) if peak else None,
            "kWh",
        ),
        figure("meters with energy", len({row["meter_id"] for row in meter_days})),
        figure(
            "meter-hours measured",
            share(sum(row["hours_measured"] for row in meter_days), hours_with_energy) if meter_days else None,
            "%",
        ),
        figure("VEE exceptions (meter-days)", sum(row["meters_failing"] for row in rows["rpt_vee_exceptions_daily"])),
        figure(
            "sensor-hours out of band",
            sum(1 for row in sensor_hours if row["pq_flag"] == "out_of_band"),
            f"of {len(sensor_hours)}",
        ),
        figure("readings rejected", sum(row["rejected_rows"] for row in rows["rpt_rejected_readings_daily"])),
        figure("runs with recorded checks", len(runs)),
        figure("latest data-quality score", runs[-1]["run_score"] if runs else None, "of 100"),
        figure("failed checks", len(rows["rpt_failed_checks"])),
    ]
