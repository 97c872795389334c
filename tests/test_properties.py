"""Property tests: random meter histories — gaps, duplicates, late arrivals, register resets, unit and customer
changes — delivered to the source in a random order and split across several load + incremental dbt runs.
Afterwards the marts equal an independent reading of contract §3-§4 (tests/reference.py) and every meter's energy
is conserved: its hours add up to the sum of its non-negative register steps.

`make test` runs a few examples (profile `ci`); `make test-long` runs many (HYPOTHESIS_PROFILE=long).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as profiles
from hypothesis import strategies as st

from orchestration.db.connection import drop_database, ensure_database
from orchestration.steps.dbt_runner import run_dbt
from orchestration.steps.loader import load_raw
from tests import helpers, reference

pytestmark = pytest.mark.slow
for name, examples in (("ci", 3), ("long", 30)):
    profiles.register_profile(
        name, max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
profiles.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

T0 = datetime(2026, 6, 1)
END = T0 + timedelta(days=2)  # every load reconciles everything before this
MODELS = ("run", "--select", "+fct_customer_consumption_daily", "+fct_sensor_hourly")
UNIT_FACTOR = {"kWh": 1, "Wh": 1000, "MWh": Fraction(1, 1000), None: 1}  # kWh -> the unit's number


@st.composite
def meter_history(draw, meter_id: str) -> list[dict]:
    """One meter's readings: quarter-hour steps with gaps, duplicates, resets, late rows, unit/customer changes."""
    rows, register, minute = [], Fraction(draw(st.integers(0, 5000))), 0
    for n in range(draw(st.integers(2, 14))):
        minute += draw(st.sampled_from([0, 15, 15, 15, 30, 45, 150, 240]))  # 0: same time (a duplicate)
        if draw(st.integers(0, 9)) == 0:
            register = Fraction(draw(st.integers(0, 20)))  # a register reset or meter exchange
        else:
            register += Fraction(draw(st.integers(0, 4000)), 1000)
        unit = draw(st.sampled_from(["kWh", "kWh", "Wh", "MWh", None]))
        reading = register * UNIT_FACTOR[unit]
        if unit == "MWh":  # numeric(12, 4): keep only what the column holds
            reading = Fraction(round(reading * 10_000), 10_000)
        ts = T0 + timedelta(minutes=minute)
        rows.append(
            {
                "event_id": f"{meter_id}-{n}",
                "meter_id": meter_id,
                "customer_id": draw(st.sampled_from(["C1", "C1", "C2"])),
                "reading": f"{float(reading):.4f}",
                "unit": unit,
                "timestamp": ts,
                # arrival: at once, a little late, hours late, or (rarely) 10 minutes before the clock says
                "created_at": ts + timedelta(minutes=draw(st.sampled_from([0, 1, 90, 600, -10]))),
            }
        )
    return rows


@st.composite
def deliveries(draw) -> list[list[dict]]:
    """All readings of 1-2 meters, shuffled and split into 1-3 deliveries (one load + dbt run each)."""
    rows = [row for m in range(draw(st.integers(1, 2))) for row in draw(meter_history(f"M{m}"))]
    rows = draw(st.permutations(rows))
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(rows) - 1)), max_size=2, unique=True)))
    return [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True) if rows[a:b]]


@given(batches=deliveries())
def test_marts_equal_the_contract_and_conserve_energy_whatever_the_order(settings, warehouse, source, batches):
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    helpers.create_source_tables(source)
    for batch in batches:
        helpers.insert_meter_rows(source, batch)
        load_raw(warehouse, source, END - timedelta(hours=1), END)
        run_dbt(settings, warehouse, *MODELS, prefect=False)

    helpers.assert_raw_holds_each_source_row_once(warehouse, source)
    helpers.assert_marts_match_the_contract(warehouse)
    # conservation, per meter: the hours add up to the non-negative steps between consecutive valid readings
    valid = sorted(reference.valid_meter_rows(helpers.raw_rows(warehouse, "meter_readings")),
                   key=lambda r: (r["meter_id"], r["timestamp"]))  # fmt: skip
    expected: dict[str, Fraction] = {}
    for a, b in zip(valid, valid[1:], strict=False):
        if a["meter_id"] == b["meter_id"]:
            expected[a["meter_id"]] = expected.get(a["meter_id"], Fraction(0)) + max(Fraction(0), b["kwh"] - a["kwh"])
    actual = dict(
        helpers.query(
            warehouse, "select meter_id, sum(consumption_kwh) from marts.fct_meter_consumption_hourly group by 1"
        )
    )
    assert set(actual) == set(expected)
    for meter_id, kwh in expected.items():
        assert reference.close(actual[meter_id], kwh), (meter_id, actual[meter_id], kwh)
