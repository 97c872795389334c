"""An independent reading of docs/data-contract.md §3 for every raw row: the first rule it fails, in the contract's
order, or None when it is valid. Plain Python, no code shared with the dbt models; tests/reference.py turns the
valid rows into the marts."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from tests.reference import RANGES, UNITS

EARLIEST_PLAUSIBLE = datetime(2000, 1, 1)  # dbt var earliest_plausible_timestamp's default
FUTURE = timedelta(minutes=5)


def _nan(value: Decimal) -> bool:
    return value.is_nan()


def _clock(row: dict) -> str | None:
    if row["timestamp"] < EARLIEST_PLAUSIBLE:
        return "implausible_timestamp"
    if row["timestamp"] > row["created_at"] + FUTURE:
        return "future_timestamp"
    return None


def sensor_reason(row: dict) -> str | None:
    """The first of unknown_sensor_type, not_a_number, out_of_range, implausible_timestamp, future_timestamp."""
    if row["sensor_type"] not in RANGES:
        return "unknown_sensor_type"
    if _nan(row["value"]):
        return "not_a_number"
    low, high = RANGES[row["sensor_type"]]
    if not low <= row["value"] <= high:
        return "out_of_range"
    return _clock(row)


def meter_reason(row: dict) -> str | None:
    """The first of not_a_number, negative_reading, unknown_unit, implausible_timestamp, future_timestamp."""
    if _nan(row["reading"]):
        return "not_a_number"
    if row["reading"] < 0:
        return "negative_reading"
    if (row["unit"] if row["unit"] is not None else "kWh").lower() not in UNITS:
        return "unknown_unit"
    return _clock(row)


def _with_duplicates(rows: list[dict], reason, key) -> dict[str, str | None]:
    """event_id -> reason; among otherwise valid rows with one key, the latest created_at wins (ties: highest id)
    and the others are `duplicate`."""
    reasons = {row["event_id"]: reason(row) for row in rows}
    winners: dict = {}
    for row in rows:
        if reasons[row["event_id"]] is None:
            k = key(row)
            if k not in winners or (row["created_at"], row["id"]) > (winners[k]["created_at"], winners[k]["id"]):
                winners[k] = row
    kept = {row["event_id"] for row in winners.values()}
    return {e: ("duplicate" if r is None and e not in kept else r) for e, r in reasons.items()}


def sensor_reasons(rows: list[dict]) -> dict[str, str | None]:
    return _with_duplicates(rows, sensor_reason, lambda r: (r["sensor_id"], r["sensor_type"], r["timestamp"]))


def meter_reasons(rows: list[dict]) -> dict[str, str | None]:
    return _with_duplicates(rows, meter_reason, lambda r: (r["meter_id"], r["timestamp"]))
