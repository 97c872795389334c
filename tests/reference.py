"""An independent, plain-Python reading of docs/data-contract.md §3-§4, to check the marts on data the tests never saw.

It shares no code with the dbt models: exact fractions instead of SQL numerics, loops instead of windows.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

RANGES = {"voltage": (0, 1000), "current": (0, 10000), "power": (-100000, 100000), "frequency": (40, 70)}
UNITS = {"kwh": Fraction(1), "wh": Fraction(1, 1000), "mwh": Fraction(1000)}
HOUR = timedelta(hours=1)
FUTURE = timedelta(minutes=5)


def _is_nan(value: Decimal) -> bool:
    return value.is_nan()


def _dedupe(rows: list[dict], key) -> list[dict]:
    """Among valid rows with the same key, keep the latest created_at, ties by the highest id."""
    best: dict = {}
    for row in rows:
        k = key(row)
        if k not in best or (row["created_at"], row["id"]) > (best[k]["created_at"], best[k]["id"]):
            best[k] = row
    return list(best.values())


def valid_sensor_rows(raw: list[dict]) -> list[dict]:
    ok = []
    for r in raw:
        if r["sensor_type"] not in RANGES or _is_nan(r["value"]):
            continue
        lo, hi = RANGES[r["sensor_type"]]
        if not lo <= r["value"] <= hi or r["timestamp"] > r["created_at"] + FUTURE:
            continue
        ok.append(r)
    return _dedupe(ok, lambda r: (r["sensor_id"], r["sensor_type"], r["timestamp"]))


def valid_meter_rows(raw: list[dict]) -> list[dict]:
    ok = []
    for r in raw:
        if _is_nan(r["reading"]) or r["reading"] < 0:
            continue
        unit = (r["unit"] or "kWh").lower()
        if unit not in UNITS or r["timestamp"] > r["created_at"] + FUTURE:
            continue
        ok.append({**r, "kwh": Fraction(r["reading"]) * UNITS[unit]})
    return _dedupe(ok, lambda r: (r["meter_id"], r["timestamp"]))


def _hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)


def sensor_hourly(raw: list[dict]) -> dict:
    groups = defaultdict(list)
    for r in valid_sensor_rows(raw):
        groups[(r["sensor_id"], r["sensor_type"], _hour(r["timestamp"]))].append(r["value"])
    out = {}
    for key, values in groups.items():
        out[key] = {
            "reading_count": len(values),
            "avg_value": sum(values) / len(values),
            "min_value": min(values),
            "max_value": max(values),
            "stddev_value": statistics.stdev(values) if len(values) > 1 else None,
        }
    return out


def meter_hourly(raw: list[dict]) -> dict:
    by_meter = defaultdict(list)
    for r in valid_meter_rows(raw):
        by_meter[r["meter_id"]].append(r)
    out = {}
    for meter, rows in by_meter.items():
        rows.sort(key=lambda r: r["timestamp"])
        hours: dict = defaultdict(lambda: {"kwh": Fraction(0), "est": Fraction(0), "codes": {0}, "customer": None})
        for a, b in zip(rows, rows[1:], strict=False):
            t0, t1, delta = a["timestamp"], b["timestamp"], b["kwh"] - a["kwh"]
            span = (t1 - t0).total_seconds()
            interpolated, long_gap, negative = t1 - t0 > timedelta(minutes=15), t1 - t0 > 2 * HOUR, delta < 0
            h = t0.replace(minute=0, second=0, microsecond=0)
            while h < t1:
                overlap = (min(t1, h + HOUR) - max(t0, h)).total_seconds()
                cell = hours[(meter, h.replace(tzinfo=UTC))]
                share = Fraction(0) if negative else delta * Fraction(overlap) / Fraction(span)
                cell["kwh"] += share
                if interpolated:
                    cell["est"] += share
                cell["codes"].add(10 if (long_gap or negative) else 9 if interpolated else 0)
                cell["customer"] = b["customer_id"]  # intervals go in time order: the last one overlapping wins
                h += HOUR
        counts = defaultdict(int)
        for r in rows:
            counts[(meter, _hour(r["timestamp"]))] += 1
        for key, cell in hours.items():
            out[key] = {
                "customer_id": cell["customer"],
                "consumption_kwh": cell["kwh"],
                "estimated_kwh": cell["est"],
                "reading_count": counts[key],
                "quality_code": max(cell["codes"]),
            }
    return out


def customer_daily(meter_hours: dict, zone: str | None = None) -> dict:
    """Sums per (customer, day): the UTC day, or the local day in `zone` (an IANA name) when given."""
    from zoneinfo import ZoneInfo

    out: dict = {}
    for (meter, hour), row in meter_hours.items():
        key = (row["customer_id"], hour.astimezone(ZoneInfo(zone)).date() if zone else hour.date())
        cell = out.setdefault(key, {"consumption_kwh": Fraction(0), "estimated_kwh": Fraction(0), "meters": set()})
        cell["consumption_kwh"] += row["consumption_kwh"]
        cell["estimated_kwh"] += row["estimated_kwh"]
        cell["meters"].add(meter)
    return {
        k: {
            "consumption_kwh": v["consumption_kwh"],
            "estimated_kwh": v["estimated_kwh"],
            "meter_count": len(v["meters"]),
        }
        for k, v in out.items()
    }


def close(a, b, tolerance=Fraction(1, 10**6)) -> bool:
    """Equal within 1e-6 (the marts round the interpolated register to 9 decimals, averages to 6)."""
    if a is None or b is None:
        return a is b
    diff = abs(Fraction(a) - Fraction(b))
    return diff <= tolerance or (isinstance(a, float) and math.isclose(a, float(b)))
