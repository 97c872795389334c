"""Benchmark data at a utility's size, generated inside the source database with set-based SQL.

The simulator (`smartgrid simulate`) writes rows from Python at ~6k rows/s: a utility-S hour (880,000 rows)
would take minutes and dominate the benchmark. Here one `insert ... select` over generate_series writes an
hour of a 100,000-meter fleet in a few seconds.

Per hour: every meter reports its cumulative register every 15 minutes (4 rows) and every sensor reports
voltage, current, power and frequency every minute (4 x 60 rows). Registers follow a closed-form load
curve, so they never go backwards and any hour can be generated on its own. Defects, by a hash of the key:
0.2 % of meter readings and sensor readings re-sent under a new event_id (duplicates), 0.05 % NaN, 0.5 % of
meter readings missing (gaps that the hourly mart interpolates), and `late_share` of the hour's rows held
back: they arrive with the next hour (`late_rows`), for hours already processed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestration.db.connection import connected
from orchestration.settings import DbTarget


@dataclass(frozen=True)
class Fleet:
    meters: int
    sensors: int

    @property
    def rows_per_hour(self) -> int:
        return 4 * self.meters + 4 * 60 * self.sensors


UTILITY_S = Fleet(meters=100_000, sensors=2_000)


METER_SQL = """
insert into meter_readings (event_id, meter_id, customer_id, reading, unit, "timestamp", created_at)
select
    'bm-' || m || '-' || to_char(t, 'YYYYMMDDHH24MI') || case when copy = 2 then '-resent' else '' end,
    'MTR-' || lpad(m::text, 6, '0'),
    'CUS-' || lpad((m * 4 / 5)::text, 6, '0'),
    case when h < 5 then 'NaN'::numeric else round((
        1000 + (m %% 997)
        + (0.3 + (m %% 7) * 0.1) * hours
        + (0.4 + (m %% 5) * 0.1) * (hours - sin(pi() / 12 * hours + m) / (pi() / 12))
    )::numeric, 4) end,
    'kWh',
    t,
    t + interval '20 seconds' + case when copy = 2 then interval '3 minutes' else interval '0 seconds' end
from generate_series(0, %(meters)s - 1) as m
cross join generate_series(%(start)s::timestamp, %(end)s::timestamp - interval '15 minutes',
                           interval '15 minutes') as t
cross join lateral (select extract(epoch from t - timestamp '2024-01-01') / 3600 as hours) as clock
cross join lateral (select abs(hashtext(m::text || t::text)) %% 10000 as h) as roll
cross join generate_series(1, 2) as copy
where (copy = 1 or h < 20)          -- 0.2 %% re-sent under a new event_id
    and h not between 100 and 149   -- 0.5 %% missing
    and case when %(late)s then h >= %(late_threshold)s else h < %(late_threshold)s end
on conflict (event_id) do nothing
"""

SENSOR_SQL = """
insert into sensor_data (event_id, sensor_id, sensor_type, value, latitude, longitude, "timestamp", metadata,
                         created_at)
select
    'bs-' || s || '-' || kind || '-' || to_char(t, 'YYYYMMDDHH24MI') || case when copy = 2 then '-r' else '' end,
    'SNS-' || lpad(s::text, 5, '0'),
    kind,
    case when h < 5 then 'NaN'::numeric else round((case kind
        when 'voltage' then 230 - 6 * load + (h %% 100) / 60.0
        when 'current' then 40 + 160 * load + (s %% 10) * 5 + (h %% 100) / 20.0
        when 'power' then 0.66 * (40 + 160 * load + (s %% 10) * 5)
        else 50 + ((h %% 100) - 50) / 2500.0
    end)::numeric, 4) end,
    42.0 + (s %% 100) / 100.0,
    21.0 + (s / 100) / 100.0,
    t,
    '{"firmware": "2.3.1"}'::jsonb,
    t + interval '5 seconds'
from generate_series(0, %(sensors)s - 1) as s
cross join generate_series(%(start)s::timestamp, %(end)s::timestamp - interval '1 minute',
                           interval '1 minute') as t
cross join (values ('voltage'), ('current'), ('power'), ('frequency')) as kinds (kind)
cross join lateral (select 0.5 + 0.4 * sin(pi() / 12 * (extract(epoch from t) / 3600 - 9)) as load) as curve
cross join lateral (select abs(hashtext(s::text || kind || t::text)) %% 10000 as h) as roll
cross join generate_series(1, 2) as copy
where (copy = 1 or h < 20)
    and case when %(late)s then h >= %(late_threshold)s else h < %(late_threshold)s end
on conflict (event_id) do nothing
"""


def generate_hours(
    source: DbTarget,
    fleet: Fleet,
    start: datetime,
    end: datetime,
    *,
    late_share: float = 0.0,
    late: bool = False,
    step: timedelta = timedelta(hours=1),
) -> int:
    """Insert [start, end) of `fleet` into the source tables, `step` (hour-aligned) per transaction; return rows
    inserted.

    With `late_share` > 0 the hour's rows whose hash falls below it are held back; `late=True` inserts
    exactly those held-back rows (they arrive late, with new ids).
    """
    from orchestration.local.simulator import source_ddl

    params = {
        "meters": fleet.meters,
        "sensors": fleet.sensors,
        "late": late,
        "late_threshold": 10000 - round(late_share * 10000),  # rows hashed at or above it are held back
    }
    inserted = 0
    with connected(source, application="smartgrid-bench") as conn, conn.cursor() as cur:
        cur.execute(source_ddl())
        hour = start
        while hour < end:
            chunk = {**params, "start": hour, "end": min(hour + step, end)}
            for statement in (METER_SQL, SENSOR_SQL):
                cur.execute(statement, chunk)
                inserted += cur.rowcount
            conn.commit()
            hour += step
    return inserted


# The network part (benchmarks/network.py): one transformer per 20 meters (5,000 at utility-S), 25 transformers a
# feeder, ratings 25-75 kVA; every meter connected from 2024-01-01 but one in 1,000 (unconnected).
NETWORK_SQL = """
insert into transformers (transformer_id, feeder_id, rated_kva, latitude, longitude, valid_from, created_at)
select
    'TRF-' || lpad(t::text, 5, '0'),
    'FDR-' || lpad((t / 25)::text, 4, '0'),
    case when t %% 10 = 9 then 25 when t %% 10 >= 7 then 75 else 50 end,
    42.0 + (t %% 100) / 100.0,
    21.0 + (t / 100) / 100.0,
    timestamp '2024-01-01',
    timestamp '2024-01-01'
from generate_series(0, %(meters)s / 20 - 1) as t;
insert into meter_connections (meter_id, transformer_id, valid_from, created_at)
select 'MTR-' || lpad(m::text, 6, '0'), 'TRF-' || lpad((m / 20)::text, 5, '0'), timestamp '2024-01-01',
    timestamp '2024-01-01'
from generate_series(0, %(meters)s - 1) as m
where m %% 1000 <> 999
"""


def generate_network(source: DbTarget, fleet: Fleet) -> int:
    """The fleet's network in the source's optional tables; return the transformers written."""
    from orchestration.sources import network_source_ddl

    with connected(source, application="smartgrid-bench") as conn, conn.cursor() as cur:
        cur.execute(network_source_ddl())
        cur.execute(NETWORK_SQL, {"meters": fleet.meters})
    return fleet.meters // 20


LATE_SHARE = 0.005  # of an hour's rows arrive an hour late, in the timed hours of the bench


def generate_history(source: DbTarget, fleet: Fleet, start: datetime, hour: datetime) -> None:
    """The rows of [start, hour), LATE_SHARE of the last hour's rows held back (they arrive with `hour`)."""
    generate_hours(source, fleet, start, hour - timedelta(hours=1))
    generate_hours(source, fleet, hour - timedelta(hours=1), hour, late_share=LATE_SHARE)


def generate_next_hour(source: DbTarget, fleet: Fleet, hour: datetime) -> int:
    """The rows of `hour` and the held-back rows of the hour before (generate_history); returns the late rows."""
    generate_hours(source, fleet, hour, hour + timedelta(hours=1))
    return generate_hours(source, fleet, hour - timedelta(hours=1), hour, late_share=LATE_SHARE, late=True)
