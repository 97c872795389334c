"""A plausible distribution network for the simulated meters (simulated_data.py), as rows of the optional network
tables (docs/data-contract.md §1), written by simulator.py.

Residential meters share pole-top transformers, four to a transformer; each industrial meter (the MWh registers) has
its own. Transformers take standard ratings (IEEE C57.12 sizes, kVA) sized for at most 75 % loading at their
meters' combined daily peak, except every other group of meters that peak in the evening (Europe/Berlin): sized
too small (at least 15 % over the rating at that peak), they run hot in the evening peak. Transformers are spread
over three feeders (the grid sensors' `F-01`..`F-03`). One meter moves to the next transformer in the middle of
each simulated window (a new connection row), and with defects switched on the last residential meter has no
connection: a new installation the GIS does not know yet. Everything is a pure function of the configuration and
the window, so writing it twice writes each row once (simulator.py checks the natural key).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestration.local.simulated_data import CITIES, EPOCH, Meter, SimulationConfig, _rng, make_meters

RATINGS_KVA = (5, 10, 15, 25, 37.5, 50, 75, 100, 167, 250, 500, 750, 1000, 1500)
POWER_FACTOR = 0.95  # the dbt var network_power_factor's default
METERS_PER_TRANSFORMER = 4
EVENING_UTC_HOURS = range(16, 21)  # 17:00-21:59 in Europe/Berlin (winter)


@dataclass(frozen=True)
class Transformer:
    transformer_id: str
    feeder_id: str
    rated_kva: float
    latitude: float
    longitude: float
    meters: tuple[Meter, ...]
    runs_hot: bool


def peak_kw(meters: tuple[Meter, ...]) -> tuple[float, int]:
    """(the meters' highest combined 15-minute average kW over a day, its UTC hour): the load shapes repeat daily."""
    steps = [EPOCH + timedelta(minutes=15 * i) for i in range(97)]
    pairs = zip(steps, steps[1:], strict=False)
    loads = [sum(4 * (m.energy_kwh(b) - m.energy_kwh(a)) for m in meters) for a, b in pairs]
    best = max(range(len(loads)), key=loads.__getitem__)
    return loads[best], best // 4


def _rating(peak: float, hot: bool) -> float:
    apparent = peak / POWER_FACTOR
    if hot:  # the largest standard size that the peak overloads by at least 15 %
        return max([r for r in RATINGS_KVA if apparent >= 1.15 * r] or [RATINGS_KVA[0]])
    return min([r for r in RATINGS_KVA if apparent <= 0.75 * r] or [RATINGS_KVA[-1]])


def make_network(config: SimulationConfig) -> list[Transformer]:
    meters = make_meters(config)
    residential = [m for m in meters if m.unit != "MWh"]
    if config.defect_rate > 0 and len(residential) > 1:
        residential = residential[:-1]  # the last one is not connected (yet)
    evening = [m for m in residential if peak_kw((m,))[1] in EVENING_UTC_HOURS]
    other = [m for m in residential if m not in evening]
    size = METERS_PER_TRANSFORMER
    evening_groups = [tuple(evening[i : i + size]) for i in range(0, len(evening), size)]
    groups = [(m,) for m in meters if m.unit == "MWh"]
    groups += [tuple(other[i : i + size]) for i in range(0, len(other), size)] + evening_groups
    hot_groups = evening_groups[::2]
    transformers = []
    for i, group in enumerate(groups):
        peak, _ = peak_kw(group)
        hot = group in hot_groups
        lat, lon = CITIES[i % len(CITIES)]
        site = _rng(config, "transformer", i)
        transformers.append(
            Transformer(
                transformer_id=f"TRF-{i:04d}",
                feeder_id=f"F-{i % 3 + 1:02d}",
                rated_kva=_rating(peak, hot),
                latitude=round(lat + site.uniform(-0.05, 0.05), 7),
                longitude=round(lon + site.uniform(-0.05, 0.05), 7),
                meters=group,
                runs_hot=hot,
            )
        )
    return transformers


def moved_meter(transformers: list[Transformer], start: datetime, end: datetime) -> tuple[str, str, datetime] | None:
    """(meter, the transformer it moves to, when): the first meter of the first shared transformer moves to the
    next transformer at the window's middle hour."""
    shared = [t for t in transformers if len(t.meters) > 1]
    if len(transformers) < 2 or not shared:
        return None
    origin = transformers.index(shared[0])
    target = transformers[(origin + 1) % len(transformers)]
    middle = start + (end - start) / 2
    return shared[0].meters[0].meter_id, target.transformer_id, middle.replace(minute=0, second=0, microsecond=0)


def network_rows(config: SimulationConfig, start: datetime, end: datetime, now: datetime):
    """{table: rows (values in sources.py's column order, without id)} for a network valid since EPOCH."""
    transformers = make_network(config)
    created = min(start, now)
    rows = {
        "transformers": [
            [t.transformer_id, t.feeder_id, t.rated_kva, t.latitude, t.longitude, EPOCH, created] for t in transformers
        ],
        "meter_connections": [[m.meter_id, t.transformer_id, EPOCH, created] for t in transformers for m in t.meters],
    }
    move = moved_meter(transformers, start, end)
    if move and move[2] + timedelta(minutes=10) <= now:
        meter_id, transformer_id, at = move
        rows["meter_connections"].append([meter_id, transformer_id, at, at + timedelta(minutes=10)])
    return rows


def evening_loading_pct(transformer: Transformer) -> float:
    """The transformer's loading at its meters' peak, % of rating at the default power factor."""
    if not transformer.meters:
        return math.nan
    return 100 * peak_kw(transformer.meters)[0] / (transformer.rated_kva * POWER_FACTOR)
