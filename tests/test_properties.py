"""Property tests of the whole contract: Hypothesis generates sensor and meter histories with every rejection reason
(unknown type, NaN, out of range at the edges, negative, unknown or empty unit, a reset clock, a clock ahead),
duplicates whose arrival ties (the highest id wins), gaps, register resets, unit changes, and late and re-delivered
rows. Each generated dataset lives in its own id namespace, so all of them are loaded and built together: delivery
one, load, `dbt build` (every data test, unit test and the VEE mart), delivery two (late rows, re-deliveries),
load, `dbt build` again. Then, per dataset, raw equals the source, every rejected row carries the contract's first
reason (tests/reference_rejections.py), the marts equal an independent reading of §3-§4 (tests/reference.py),
each meter's energy is conserved, and the VEE mart splits the same energy over the same rows.

`make test` generates 25 datasets (profile `ci`), the same 25 on every run (derandomized: a random 25 missed the
unknown sensor type once, a red run without a fault); `make test-long` 200 new ones each run (HYPOTHESIS_PROFILE=long).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as profiles
from hypothesis import strategies as st

from orchestration.db.connection import drop_database, ensure_database
from orchestration.steps.loader import load_raw
from tests import helpers, reference
from tests.reference_rejections import meter_reasons, sensor_reasons

pytestmark = pytest.mark.slow
DATASETS = {"ci": 25, "long": 200}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
T0 = datetime(2026, 6, 1)
END = T0 + timedelta(days=3)  # every load reconciles everything before this
UNIT_FACTOR = {"kWh": 1, "Wh": 1000, "MWh": Fraction(1, 1000), None: 1, "kwh": 1, "WH": 1000}
# a reading's defect (None: none), each a contract §3 rule
METER_DEFECTS = [None] * 8 + ["nan", "negative", "unknown_unit", "implausible", "future"]
SENSOR_VALUES = {  # in range, at the edges, just outside
    "voltage": ["230.1000", "0", "1000", "1000.0001", "-0.0001"],
    "current": ["12.5000", "0", "10000", "10000.0001"],
    "power": ["-100000", "100000", "-100000.0001", "42.4200"],
    "frequency": ["50.0000", "40", "70", "39.9999", "70.0001"],
    "temperature": ["21.0000"],  # an unknown sensor type
}


@st.composite
def meter_history(draw, meter: str) -> list[dict]:
    """One meter's readings: quarter-hour steps with gaps, resets, unit changes, defects, ties and re-deliveries."""
    rows, register, minute = [], Fraction(draw(st.integers(0, 5000))), 0
    for n in range(draw(st.integers(2, 10))):
        minute += draw(st.sampled_from([15, 15, 15, 30, 45, 150, 240]))
        if draw(st.integers(0, 9)) == 0:
            register = Fraction(draw(st.integers(0, 20)))  # a register reset or meter exchange
        else:
            register += Fraction(draw(st.integers(0, 4000)), 1000)
        ts = T0 + timedelta(minutes=minute)
        row = _meter_row(draw, f"{meter}-{n}", meter, register, ts)
        rows.append(row)
        again = draw(st.sampled_from([None, None, None, "tie", "later"]))
        if again:  # the same meter and time once more, with another reading: arriving at once (a tie) or later
            other = _meter_row(draw, f"{meter}-{n}-again", meter, register + 1, ts)
            other["created_at"] = row["created_at"] + (timedelta(0) if again == "tie" else timedelta(hours=5))
            other["delivery"] = row["delivery"] if again == "tie" else 2
            rows.append(other)
    return rows


def _meter_row(draw, event_id: str, meter: str, register: Fraction, ts: datetime) -> dict:
    unit = draw(st.sampled_from(["kWh", "kWh", "Wh", "MWh", None, "kwh", "WH"]))
    reading = f"{float(Fraction(round(register * UNIT_FACTOR[unit] * 10_000), 10_000)):.4f}"
    defect = draw(st.sampled_from(METER_DEFECTS))
    if defect == "nan":
        reading = "NaN"
    elif defect == "negative":
        reading = "-0.0001"
    elif defect == "unknown_unit":
        unit = draw(st.sampled_from(["kVArh", "", "kWh "]))
    elif defect == "implausible":
        ts = draw(st.sampled_from([datetime(1970, 1, 1), datetime(1999, 12, 31, 23, 59)]))
    # arrival: at once, late, hours late; or 10 minutes before the reading's own clock (a clock ahead)
    late = -10 if defect == "future" else draw(st.sampled_from([0, 1, 90, 600]))
    created = (T0 if defect == "implausible" else ts) + timedelta(minutes=late)
    return {"event_id": event_id, "meter_id": meter, "customer_id": f"C{draw(st.integers(1, 2))}",
            "reading": reading, "unit": unit, "timestamp": ts, "created_at": created,
            "delivery": draw(st.sampled_from([1, 1, 2]))}  # fmt: skip


@st.composite
def sensor_history(draw, sensor: str) -> list[dict]:
    rows = []
    for n in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(sorted(SENSOR_VALUES)))
        ts = T0 + timedelta(minutes=draw(st.integers(0, 3 * 60)))  # repeats: duplicates, some with tied arrival
        ts = draw(st.sampled_from([ts] * 8 + [datetime(1970, 1, 1)]))
        created = ts + timedelta(minutes=draw(st.sampled_from([0, 0, 3, 120, -10])))
        rows.append({"event_id": f"{sensor}-{n}", "sensor_id": sensor, "sensor_type": kind,
                     "value": draw(st.sampled_from([*SENSOR_VALUES[kind], "NaN"])), "timestamp": ts,
                     "created_at": created, "delivery": draw(st.sampled_from([1, 1, 2]))})  # fmt: skip
    return rows


@st.composite
def dataset(draw) -> dict:
    """A namespace-free dataset; ids are prefixed with the dataset's namespace when it is written."""
    meters = [row for m in range(draw(st.integers(1, 2))) for row in draw(meter_history(f"M{m}"))]
    sensors = draw(sensor_history("S0")) if draw(st.booleans()) else []
    return {"meters": draw(st.permutations(meters)), "sensors": draw(st.permutations(sensors))}


def generated_datasets(count: int) -> list[dict]:
    found: list[dict] = []

    @profiles(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              derandomize=PROFILE == "ci", suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(dataset())
    def collect(data):
        found.append(data)

    collect()
    return found


def _namespaced(rows: list[dict], ns: str, keys: tuple[str, ...]) -> list[dict]:
    return [{**row, **{k: ns + row[k] for k in keys}} for row in rows]


def _deliver(source, datasets: list[tuple[str, dict]], delivery: int) -> None:
    meters = [r for ns, d in datasets for r in _namespaced(d["meters"], ns, ("event_id", "meter_id", "customer_id"))]
    sensors = [r for ns, d in datasets for r in _namespaced(d["sensors"], ns, ("event_id", "sensor_id"))]
    pick = [{k: v for k, v in r.items() if k != "delivery"} for r in meters if r["delivery"] == delivery]
    helpers.insert_meter_rows(source, pick)
    helpers.insert_sensor_rows(source, [{k: v for k, v in r.items() if k != "delivery"}
                                        for r in sensors if r["delivery"] == delivery])  # fmt: skip


def _mine(rows: dict, ns: str) -> dict:
    return {key: row for key, row in rows.items() if key[0].startswith(ns)}


def test_generated_datasets_through_load_and_dbt_build_equal_the_contract(settings, warehouse, source):
    datasets = [(f"P{n:03d}-", data) for n, data in enumerate(generated_datasets(DATASETS[PROFILE]))]
    assert len(datasets) >= DATASETS[PROFILE]
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    helpers.create_source_tables(source)
    for delivery in (1, 2):
        _deliver(source, datasets, delivery)
        load_raw(warehouse, source, END - timedelta(hours=1), END)
        helpers.build(settings, warehouse, unit_tests=True)  # raises on any failed data or unit test
    helpers.assert_raw_holds_each_source_row_once(warehouse, source)

    raw_sensors, raw_meters = helpers.raw_rows(warehouse, "sensor_data"), helpers.raw_rows(warehouse, "meter_readings")
    rejected = {(t, e): r for t, e, r in helpers.query(
        warehouse, "select source_table, event_id, reason_code from audit.rejected_readings")}  # fmt: skip
    marts = {mart: helpers.mart_rows(warehouse, mart) for mart in helpers.MART_KEYS}
    reasons_seen: set = set()
    for ns, _ in datasets:
        sensors = [r for r in raw_sensors if r["sensor_id"].startswith(ns)]
        meters = [r for r in raw_meters if r["meter_id"].startswith(ns)]
        expected = {("sensor_data", e): r for e, r in sensor_reasons(sensors).items()}
        expected |= {("meter_readings", e): r for e, r in meter_reasons(meters).items()}
        got = {key: rejected.get(key) for key in expected}
        assert got == expected, ns
        reasons_seen |= set(expected.values())
        valid_sensors = [r for r in sensors if expected["sensor_data", r["event_id"]] is None]
        valid_meters = [r for r in meters if expected["meter_readings", r["event_id"]] is None]
        _assert_marts(ns, marts, valid_sensors, valid_meters)
    # the generator reached every rule (a seed that misses one would prove less than this test claims)
    assert reasons_seen >= {None, "unknown_sensor_type", "not_a_number", "out_of_range", "negative_reading",
                            "unknown_unit", "implausible_timestamp", "future_timestamp", "duplicate"}  # fmt: skip


def _assert_marts(ns: str, marts: dict, sensors: list[dict], meters: list[dict]) -> None:
    expected_sensor = reference.sensor_hourly(sensors)
    actual_sensor = _mine(marts["fct_sensor_hourly"], ns)
    assert set(actual_sensor) == set(expected_sensor), ns
    for key, exp in expected_sensor.items():
        for column, value in exp.items():
            assert reference.close(actual_sensor[key][column], value), (key, column)

    expected_meter = reference.meter_hourly(meters)
    actual_meter = _mine(marts["fct_meter_consumption_hourly"], ns)
    assert set(actual_meter) == set(expected_meter), ns
    for key, exp in expected_meter.items():
        act = actual_meter[key]
        assert (act["customer_id"], act["reading_count"], act["quality_code"]) == (
            exp["customer_id"], exp["reading_count"], exp["quality_code"]), key  # fmt: skip
        assert reference.close(act["consumption_kwh"], exp["consumption_kwh"]), key
        assert reference.close(act["estimated_kwh"], exp["estimated_kwh"]), key

    expected_daily = reference.customer_daily(expected_meter)
    actual_daily = _mine(marts["fct_customer_consumption_daily"], ns)
    assert set(actual_daily) == set(expected_daily), ns
    for key, exp in expected_daily.items():
        assert actual_daily[key]["meter_count"] == exp["meter_count"], key
        assert reference.close(actual_daily[key]["consumption_kwh"], exp["consumption_kwh"]), key

    # conservation: each meter's hours add up to the non-negative steps between its consecutive valid readings
    valid = sorted(reference.valid_meter_rows(meters), key=lambda r: (r["meter_id"], r["timestamp"]))
    steps: dict[str, Fraction] = {}
    for a, b in zip(valid, valid[1:], strict=False):
        if a["meter_id"] == b["meter_id"]:
            steps[a["meter_id"]] = steps.get(a["meter_id"], Fraction(0)) + max(Fraction(0), b["kwh"] - a["kwh"])
    for meter, kwh in steps.items():
        total = sum(Fraction(r["consumption_kwh"]) for (m, _), r in actual_meter.items() if m == meter)
        assert reference.close(total, kwh), (meter, total, kwh)

    # the VEE mart: the same rows, its parts add up to vee_kwh, and each meter's total energy is the same
    vee = _mine(marts["fct_meter_consumption_hourly_vee"], ns)
    assert set(vee) == set(actual_meter), ns
    for key, row in vee.items():
        parts = ("measured_kwh", "interpolated_kwh", "like_day_kwh", "unestimated_gap_kwh")
        assert reference.close(row["vee_kwh"], sum(Fraction(row[p] or 0) for p in parts)), key
    for meter in {m for m, _ in vee}:
        vee_total = sum(Fraction(r["vee_kwh"]) for (m, _), r in vee.items() if m == meter)
        total = sum(Fraction(r["consumption_kwh"]) for (m, _), r in actual_meter.items() if m == meter)
        assert reference.close(vee_total, total), meter
