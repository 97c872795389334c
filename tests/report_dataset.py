"""The report tests' hand-worked warehouse (tests/test_report*.py; built by conftest's `hand_worked`): source rows,
three recorded runs, and how a test reads a built page back (the JSON it embeds, never pixels).

Every expected number is worked out in the comments. Times are UTC; DAY is a Tuesday, and Europe/Berlin (the
project's local_time_zone) is UTC+1 on it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from orchestration.results.model import (
    CheckpointReport,
    CheckpointStatistics,
    DataQualityReport,
    DbtReport,
    ExpectationCheck,
    LoadResult,
    RunReport,
    RunWindow,
)
from orchestration.steps.dq_results import record_run
from orchestration.steps.run_steps import record_run_steps
from tests import helpers

DAY = datetime(2026, 3, 10)  # a Tuesday
WINDOW = (DAY, DAY + timedelta(days=1))


def at(hhmm: str) -> datetime:
    return helpers.at(hhmm, DAY)


def meter(event: str, meter_id: str, customer: str, reading: float, hhmm: str, **extra) -> dict:
    row = {"event_id": event, "meter_id": meter_id, "customer_id": customer, "reading": reading, "timestamp": at(hhmm)}
    return row | extra


def sensor(event: str, sensor_id: str, sensor_type: str, value: float, t: datetime) -> dict:
    return {"event_id": event, "sensor_id": sensor_id, "sensor_type": sensor_type, "value": value, "timestamp": t}


# M1 (customer C1): four measured quarter-hours of 1 kWh in hour 00, then 2 kWh over 01:00 -> 02:00, one
# interval of an hour (a gap of <= 2 h): interpolated, all in hour 01.
# M2 (customer C2): four quarter-hours of 0.5 kWh in hour 00; its 00:15 reading arrives twice (same value), so
# the earlier copy is rejected as a duplicate.
METER_ROWS = [
    *[meter(f"m1-{i}", "M1", "C1", 100 + i, f"00:{15 * i:02d}") for i in range(4)],
    meter("m1-4", "M1", "C1", 104, "01:00"),
    meter("m1-5", "M1", "C1", 106, "02:00"),
    *[meter(f"m2-{i}", "M2", "C2", 50 + 0.5 * i, f"00:{15 * i:02d}") for i in range(4)],
    meter("m2-4", "M2", "C2", 52, "01:00"),
    meter("m2-1-again", "M2", "C2", 50.5, "00:15", created_at=at("00:20")),
]
# S1, hour 00: voltage 230, 231, 260 (260 V is above the 253 V band edge: out of band); frequency 50.0 and 50.1
# (inside 49.5-50.5 Hz, but 2 of 60 expected readings: incomplete); a NaN voltage (rejected, not_a_number).
# S2: 60 frequency readings of 50.0 Hz in hour 00 (ok), one of 49.0 Hz in hour 01 (below 49.5: out of band).
SENSOR_ROWS = [
    sensor("s1-v1", "S1", "voltage", 230, at("00:10")),
    sensor("s1-v2", "S1", "voltage", 231, at("00:20")),
    sensor("s1-v3", "S1", "voltage", 260, at("00:30")),
    sensor("s1-nan", "S1", "voltage", float("nan"), at("00:40")),
    sensor("s1-f1", "S1", "frequency", 50.0, at("00:10")),
    sensor("s1-f2", "S1", "frequency", 50.1, at("00:20")),
    *[sensor(f"s2-f{m}", "S2", "frequency", 50.0, DAY + timedelta(minutes=m)) for m in range(60)],
    sensor("s2-low", "S2", "frequency", 49.0, at("01:30")) | {"latitude": 42.66, "longitude": 21.17},
]
# The network: M1 on T1 (3 kVA: 2.85 kW at power factor 0.95); M2 has no connection ('unconnected'). Only S2's
# 01:30 reading lies in raw's last 5 minutes and carries a location: the one sensor on the map.
NETWORK = {
    "transformers": [{"transformer_id": "T1", "feeder_id": "F1", "rated_kva": 3, "latitude": 42.65,
                      "longitude": 21.16, "valid_from": DAY - timedelta(days=30)}],
    "meter_connections": [{"meter_id": "M1", "transformer_id": "T1", "valid_from": DAY - timedelta(days=30)}],
}  # fmt: skip


def gx_check(name: str, severity: str, success: bool, observed: float) -> ExpectationCheck:
    return ExpectationCheck(name=name, checked_object="raw_meter_readings", severity=severity, success=success,
                            observed_value=observed, threshold="mostly=0.99", detail="")  # fmt: skip


def checkpoint_of(checks: list[ExpectationCheck]) -> CheckpointReport:
    statistics = CheckpointStatistics(evaluated_expectations=len(checks), unsuccessful_expectations=0,
                                      failed_critical=0, success_percent=100.0)  # fmt: skip
    return CheckpointReport(success=True, seconds=0, statistics=statistics, checks=checks)


def run_result(run_id: str, start: datetime, seconds: dict[str, float | None]) -> RunReport:
    """A run's report as record_run_steps reads it: the run id, its window and each step's seconds."""
    report = RunReport(window=RunWindow.of(start, start + timedelta(hours=1)))
    report.data_quality = DataQualityReport(run_id=run_id, score=100.0, checks=0, table="audit.dq_run_results")
    if seconds["load"] is not None:
        report.load = LoadResult(load_id="l", loaded_at=start, window_start=start, window_end=start,
                                 seconds=seconds["load"], tables={})  # fmt: skip
    if seconds["dbt"] is not None:
        report.dbt = DbtReport(command="build", success=True, seconds=seconds["dbt"])
    if seconds["checkpoint"] is not None:
        report.checkpoint = checkpoint_of([])
        report.checkpoint.seconds = seconds["checkpoint"]
    return report


def record_runs(warehouse) -> None:
    # run-a (00:00-01:00): a critical check passed (weight 3), a warning failed (weight 1): 100 x 3 / 4 = 75.0
    checks_a = [gx_check("raw: unique(event_id)", "critical", True, 0), gx_check("raw: grid", "warning", False, 40)]
    record_run(warehouse, "run-a", at("00:00"), at("01:00"), checkpoint_of(checks_a), None)
    # run-b (01:00-02:00): its one check passed: 100.0
    checks_b = [gx_check("raw: unique(event_id)", "critical", True, 0)]
    record_run(warehouse, "run-b", at("01:00"), at("02:00"), checkpoint_of(checks_b), None)
    # a run two days earlier, outside the report's window, with a failed critical check: not in the report
    old = DAY - timedelta(days=2)
    checks_old = [gx_check("raw: unique(event_id)", "critical", False, 5)]
    record_run(warehouse, "run-old", old, old + timedelta(hours=1), checkpoint_of(checks_old), None)
    # step seconds: run-a 1.5 + 10.25 + 3.0 = 14.75 s; run-b ran no checkpoint, 0.5 + 8.0 = 8.5 s
    record_run_steps(warehouse, run_result("run-a", at("00:00"), {"load": 1.5, "dbt": 10.25, "checkpoint": 3.0}))
    record_run_steps(warehouse, run_result("run-b", at("01:00"), {"load": 0.5, "dbt": 8.0, "checkpoint": None}))
    record_run_steps(warehouse, run_result("run-old", old, {"load": 99.0, "dbt": 99.0, "checkpoint": None}))


def embedded(html: str, element_id: str):
    """The JSON the page embeds in <script type="application/json" id=...>: what its chart draws."""
    match = re.search(rf'<script type="application/json" id="{element_id}"[^>]*>(.*?)</script>', html, re.S)
    assert match, f"no {element_id} in the report"
    return json.loads(match.group(1))


def traces(html: str, chart: str) -> dict[str, dict]:
    return {trace.get("name"): trace for trace in embedded(html, f"chart-data-{chart}")["data"]}


def figures(html: str) -> dict[str, tuple]:
    return {item["figure"]: (item["value"], item["unit"]) for item in embedded(html, "key-figures")}
