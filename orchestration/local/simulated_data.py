"""Plausible smart-grid data, with a small share of realistic defects, as source rows (written by simulator.py).

Meters report a cumulative energy register every 15 minutes; their load follows a daily shape (a morning and
an evening peak). Grid sensors report voltage, current, power and frequency every minute. Everything is a
pure function of (seed, device, time), so simulating overlapping windows twice writes each row once.

Defects (docs/data-contract.md §3), each at a share of `defect_rate`: late arrivals, duplicates (a new event_id
for the same reading), NaN, out-of-range values, unknown sensor types and units, negative readings, future
timestamps, gaps (missing readings) and register resets.
"""

from __future__ import annotations

import functools
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

EPOCH = datetime(2024, 1, 1)
METER_STEP = timedelta(minutes=15)
SENSOR_STEP = timedelta(minutes=1)
SENSOR_TYPES = ("voltage", "current", "power", "frequency")
UNIT_FACTOR = {"kWh": 1.0, "Wh": 1000.0, "MWh": 0.001}  # register in kWh -> register in unit
CITIES = ((42.6629, 21.1655), (42.2139, 20.7397), (42.6593, 20.2887), (42.4635, 21.4694), (42.8914, 20.8660))


@dataclass(frozen=True)
class SimulationConfig:
    meters: int = 20
    sensors: int = 5
    seed: int = 7
    defect_rate: float = 0.01

    def __post_init__(self) -> None:
        if self.meters < 0 or self.sensors < 0:
            raise ValueError("--meters and --sensors must not be negative")
        if not 0 <= self.defect_rate <= 0.2:
            raise ValueError("--defect-rate must be between 0 and 0.2")


def _rng(config: SimulationConfig, *key: object) -> random.Random:
    return random.Random("|".join(map(str, (config.seed, *key))))


def _steps(start: datetime, end: datetime, step: timedelta):
    t = start
    while t < end:
        yield t
        t += step


# --- meters -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    meter_id: str
    customer_id: str
    unit: str
    base_kw: float
    peak_kw: float
    phase: float
    register_start_kwh: float

    def energy_kwh(self, t: datetime) -> float:
        """Energy used since EPOCH: the closed-form integral of base + a morning and an evening peak."""
        hours = (t - EPOCH).total_seconds() / 3600
        w1, w2 = 2 * math.pi / 24, 4 * math.pi / 24
        daily = hours - (math.cos(w1 * hours + self.phase) - math.cos(self.phase)) / w1
        twice_daily = hours - (math.cos(w2 * hours + self.phase) - math.cos(self.phase)) / w2
        return self.base_kw * hours + self.peak_kw * (0.35 * daily + 0.15 * twice_daily)


def make_meters(config: SimulationConfig) -> list[Meter]:
    meters = []
    for i in range(config.meters):
        r = _rng(config, "meter", i)
        unit = "Wh" if i % 10 == 7 else "MWh" if i % 10 == 9 else "kWh"
        scale = 200.0 if unit == "MWh" else 1.0  # MWh registers belong to large industrial customers
        meters.append(
            Meter(
                meter_id=f"MTR-{i:05d}",
                customer_id=f"CUS-{(i * 4) // 5:05d}",  # every fifth customer has two meters
                unit=unit,
                base_kw=scale * r.uniform(0.2, 0.8),
                peak_kw=scale * r.uniform(0.5, 2.0),
                phase=r.uniform(0, 2 * math.pi),
                register_start_kwh=round(r.uniform(1000, 6000), 1),
            )
        )
    return meters


@functools.lru_cache(maxsize=65536)
def _reset_time(config: SimulationConfig, meter: Meter, day: datetime) -> datetime | None:
    r = _rng(config, "reset", meter.meter_id, day.date())
    if r.random() < config.defect_rate * 2:
        return day + METER_STEP * r.randrange(96)
    return None


def _register_kwh(config: SimulationConfig, meter: Meter, t: datetime) -> float:
    """The register at t; after a reset (meter exchange) it restarts from zero."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    for back in range(0, 60):
        reset = _reset_time(config, meter, day - timedelta(days=back))
        if reset is not None and reset <= t:
            return meter.energy_kwh(t) - meter.energy_kwh(reset)
    return meter.register_start_kwh + meter.energy_kwh(t)


def _in_gap(config: SimulationConfig, device: str, t: datetime, slots: int, step: timedelta) -> bool:
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    r = _rng(config, "gap", device, day.date())
    if r.random() >= config.defect_rate * 5:
        return False
    first = r.randrange(slots)
    length = r.randint(1, max(1, slots // 5))  # up to ~5 hours of a day
    index = int((t - day) / step)
    return first <= index < first + length


def meter_rows(config: SimulationConfig, start: datetime, end: datetime, now: datetime):
    """Yield meter_readings rows (without id) for [start, end)."""
    rate = config.defect_rate
    for meter in make_meters(config):
        for t in _steps(start, end, METER_STEP):
            if _in_gap(config, meter.meter_id, t, 96, METER_STEP):
                continue
            r = _rng(config, "mr", meter.meter_id, t.isoformat())
            reading = round(_register_kwh(config, meter, t) * UNIT_FACTOR[meter.unit], 4)
            unit = meter.unit
            created = t + timedelta(seconds=r.uniform(2, 60))
            roll = r.random()
            if roll < rate * 3:
                created = t + timedelta(hours=r.uniform(1, 36))  # late arrival
            elif roll < rate * 3.5:
                reading = "NaN"
            elif roll < rate * 3.75:
                reading = -abs(reading)
            elif roll < rate * 4:
                unit = "kVArh"
            elif roll < rate * 4.25:
                created = t - timedelta(hours=2)  # the meter's clock runs ahead
            created = min(created, now)
            event_id = f"mr-{meter.meter_id}-{t:%Y%m%dT%H%M}"
            row = [event_id, meter.meter_id, meter.customer_id, reading, unit, t, created]
            yield row
            if r.random() < rate:  # the head-end sends the same reading again under a new event id
                yield [event_id + "-resent", *row[1:6], min(created + timedelta(minutes=5), now)]


# --- sensors ------------------------------------------------------------------------------------------


def _sensor_value(sensor_type: str, j: int, t: datetime, r: random.Random) -> float:
    hours = (t - EPOCH).total_seconds() / 3600
    load = 0.5 + 0.4 * math.sin(2 * math.pi * (hours - 9) / 24) + 0.1 * math.sin(4 * math.pi * hours / 24)
    if sensor_type == "voltage":
        return 230 - 6 * load + r.gauss(0, 0.8)
    if sensor_type == "current":
        return max(0.0, 40 + 160 * load + j * 5 + r.gauss(0, 3))
    if sensor_type == "power":
        return 0.23 * 0.95 * (40 + 160 * load + j * 5) * 3 + r.gauss(0, 1)
    return 50 + r.gauss(0, 0.02)


def sensor_rows(config: SimulationConfig, start: datetime, end: datetime, now: datetime):
    """Yield sensor_data rows (without id) for [start, end)."""
    rate = config.defect_rate
    for j in range(config.sensors):
        sensor_id = f"SNS-{j:03d}"
        lat, lon = CITIES[j % len(CITIES)]
        site = _rng(config, "site", j)
        lat, lon = round(lat + site.uniform(-0.05, 0.05), 7), round(lon + site.uniform(-0.05, 0.05), 7)
        metadata = json.dumps({"firmware": "2.3.1", "feeder": f"F-{j % 3 + 1:02d}"})
        for t in _steps(start, end, SENSOR_STEP):
            if _in_gap(config, sensor_id, t, 1440, SENSOR_STEP):
                continue
            for sensor_type in SENSOR_TYPES:
                r = _rng(config, "sd", sensor_id, sensor_type, t.isoformat())
                value: float | str = round(_sensor_value(sensor_type, j, t, r), 4)
                created = t + timedelta(seconds=r.uniform(1, 20))
                roll = r.random()
                if roll < rate * 3:
                    created = t + timedelta(hours=r.uniform(1, 36))
                elif roll < rate * 3.5:
                    value = "NaN"
                elif roll < rate * 4:
                    value = {"voltage": 1500.0, "current": -5.0, "power": 250000.0, "frequency": 0.0}[sensor_type]
                elif roll < rate * 4.25:
                    created = t - timedelta(hours=1)
                created = min(created, now)
                event_id = f"sd-{sensor_id}-{sensor_type}-{t:%Y%m%dT%H%M}"
                row = [event_id, sensor_id, sensor_type, value, lat, lon, t, metadata, created]
                yield row
                if r.random() < rate:
                    yield [event_id + "-resent", *row[1:8], min(created + timedelta(minutes=2), now)]
            if _rng(config, "unknown", sensor_id, t.isoformat()).random() < rate / 2:
                # a temperature probe wired to the same gateway: not a grid quantity
                event_id = f"sd-{sensor_id}-temperature-{t:%Y%m%dT%H%M}"
                yield [event_id, sensor_id, "temperature", 21.5, lat, lon, t, metadata, t + timedelta(seconds=5)]
