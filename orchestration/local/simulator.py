"""`smartgrid simulate`: write simulated meter and sensor rows (simulated_data.py) and a network for the meters
(simulated_network.py) into the source tables.

Rows are keyed by event_id (network rows by their versions' key), so simulating overlapping windows twice writes
each row once.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime, timedelta

from orchestration.db.connection import connected
from orchestration.local.simulated_data import SimulationConfig, meter_rows, sensor_rows
from orchestration.local.simulated_network import network_rows
from orchestration.settings import DbTarget
from orchestration.sources import insert_columns, network_source_ddl, source_ddl

__all__ = ["SimulationConfig", "simulate", "source_ddl"]

log = logging.getLogger(__name__)

# --- writing --------------------------------------------------------------------------------------------

# simulated_data.py yields each row's values in this order: sources.py's columns, without the generated id
SENSOR_COLUMNS = insert_columns("sensor_data")
METER_COLUMNS = insert_columns("meter_readings")


NETWORK_KEYS = {"transformers": ("transformer_id", "valid_from"), "meter_connections": ("meter_id", "valid_from")}


def _copy_rows(cur, table: str, columns: str, rows) -> int:
    """COPY rows into a temporary table, then insert the ones whose event_id (network: versions' key) is new."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    buffer.seek(0)
    cur.execute(f"create temp table incoming on commit drop as select {columns} from {table} with no data")
    cur.copy_expert(f"copy incoming ({columns}) from stdin with (format csv)", buffer)
    if table in NETWORK_KEYS:
        same = " and ".join(f"kept.{c} = incoming.{c}" for c in NETWORK_KEYS[table])
        cur.execute(
            f"insert into {table} ({columns}) select {columns} from incoming "
            f"where not exists (select from {table} as kept where {same})"
        )
    else:
        cur.execute(f"insert into {table} ({columns}) select {columns} from incoming on conflict (event_id) do nothing")
    inserted = cur.rowcount
    cur.execute("drop table incoming")
    return inserted


def simulate(
    source: DbTarget, start: datetime, end: datetime, config: SimulationConfig, now: datetime | None = None
) -> dict[str, int]:
    """Write [start, end) (naive UTC) into the source tables; return rows inserted per table."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    inserted = {}
    with connected(source, application="smartgrid-simulator") as conn, conn.cursor() as cur:
        cur.execute(source_ddl() + network_source_ddl())
        for table, rows in network_rows(config, start, end, now).items():
            inserted[table] = _copy_rows(cur, table, insert_columns(table), rows)
        day = start
        while day < end:  # a day at a time keeps memory flat for long windows
            chunk_end = min(end, day + timedelta(days=1))
            inserted["sensor_data"] = inserted.get("sensor_data", 0) + _copy_rows(
                cur, "sensor_data", SENSOR_COLUMNS, sensor_rows(config, day, chunk_end, now)
            )
            inserted["meter_readings"] = inserted.get("meter_readings", 0) + _copy_rows(
                cur, "meter_readings", METER_COLUMNS, meter_rows(config, day, chunk_end, now)
            )
            log.info("simulated %s .. %s", day.isoformat(), chunk_end.isoformat())
            day = chunk_end
    return inserted
