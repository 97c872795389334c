"""The optional network tables (docs/data-contract.md §1-§2): loaded into raw exactly once, a row committed out of
id order included, and a source without them loads as before; the simulator's network is plausible."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from orchestration.local.simulated_data import SimulationConfig
from orchestration.local.simulated_network import RATINGS_KVA, evening_loading_pct, make_network, moved_meter
from orchestration.local.simulator import simulate
from orchestration.steps.loader import load_raw
from tests import network_dataset as net
from tests.helpers import at, build, insert_meter_rows, query, scalar
from tests.network_dataset import assert_hours_add_up_to_the_fleet


def raw_ids(warehouse, table: str) -> list[int]:
    return [row[0] for row in query(warehouse, f"select id from raw.{table} order by id")]


def test_a_source_without_a_network_loads_as_before(fresh_databases):
    warehouse, source = fresh_databases
    insert_meter_rows(source, net.readings()[:2])
    result = load_raw(warehouse, source, at("10:00"), at("11:00"))
    assert set(result.tables) == {"sensor_data", "meter_readings"} and result.rows_loaded == 2
    # raw's network tables exist all the same (empty), so dbt's sources and the network marts always build
    assert scalar(warehouse, "select count(*) from raw.transformers") == 0
    assert scalar(warehouse, "select count(*) from raw.meter_connections") == 0


def test_a_network_table_the_load_may_not_read_is_left_out_with_a_warning(fresh_databases, caplog):
    """A source role granted before the GIS tables existed (init-roles grants them when they are there)."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, net.readings()[:2])
    net.insert_network(source, "transformers", net.TRANSFORMERS)
    role = "smartgrid_test_no_network"
    query(
        source,
        f"do $$ begin create role {role} login; exception when duplicate_object then null; end $$; "
        f"grant select on sensor_data, meter_readings to {role}; select 1",
    )
    try:
        result = load_raw(warehouse, replace(source, user=role, password=None), at("10:00"), at("11:00"))
    finally:
        query(source, f"drop owned by {role}; drop role {role}; select 1")
    assert set(result.tables) == {"sensor_data", "meter_readings"} and result.rows_loaded == 2
    assert "the source has a transformers table the load may not read" in caplog.text


def test_network_rows_reach_raw_exactly_once(fresh_databases):
    warehouse, source = fresh_databases
    net.insert_network(source, "transformers", net.TRANSFORMERS)
    net.insert_network(source, "meter_connections", net.CONNECTIONS)
    first = load_raw(warehouse, source, at("10:00"), at("11:00"))
    assert (first.tables["transformers"].rows_loaded, first.tables["meter_connections"].rows_loaded) == (4, 7)
    again = load_raw(warehouse, source, at("11:00"), at("12:00"))
    assert (again.tables["transformers"].rows_copied, again.tables["meter_connections"].rows_copied) == (0, 0)
    assert raw_ids(warehouse, "transformers") == [1, 2, 3, 4]
    assert raw_ids(warehouse, "meter_connections") == list(range(1, 8))
    # values as the source has them, and each load in raw.load_log
    assert query(warehouse, "select transformer_id, feeder_id, rated_kva from raw.transformers where id = 3") == [
        ("T3", "F2", None)
    ]
    assert scalar(warehouse, "select count(*) from raw.load_log where table_name = 'meter_connections'") == 2


def test_a_version_committed_out_of_id_order_is_loaded(fresh_databases):
    """Ids 1 and 3 commit first and are loaded; id 2 commits later. Raw's highest id is then 3, so "rows above it"
    finds nothing: the count and sum of ids (source 3 rows, 6; raw 2 rows, 4) still differ, so every row is
    copied and raw keeps the two it has: one new row."""
    warehouse, source = fresh_databases
    rows = [{**row, "id": i} for i, row in zip((1, 3, 2), net.CONNECTIONS[:3], strict=True)]
    net.insert_network(source, "meter_connections", rows[:2])
    load_raw(warehouse, source, at("10:00"), at("11:00"))
    net.insert_network(source, "meter_connections", rows[2:])
    late = load_raw(warehouse, source, at("11:00"), at("12:00")).tables["meter_connections"]
    assert (late.rows_copied, late.rows_loaded) == (3, 1)
    assert raw_ids(warehouse, "meter_connections") == [1, 2, 3]


def test_the_simulated_network_is_plausible():
    network = make_network(SimulationConfig())  # the demo's fleet: 20 meters
    assert all(t.rated_kva in RATINGS_KVA for t in network)
    connected = [m.meter_id for t in network for m in t.meters]
    assert len(connected) == len(set(connected)) == 19  # the last residential meter is not connected
    hot = [t for t in network if t.runs_hot]
    assert hot and all(evening_loading_pct(t) > 115 for t in hot)  # at least 15 % over at the evening peak
    assert all(evening_loading_pct(t) <= 75 for t in network if not t.runs_hot)
    assert {t.feeder_id for t in network} == {"F-01", "F-02", "F-03"}
    meter_id, to, when = moved_meter(network, datetime(2026, 3, 10), datetime(2026, 3, 11))
    assert when == datetime(2026, 3, 10, 12) and to not in [t.transformer_id for t in network if meter_id in
                                                           [m.meter_id for m in t.meters]]  # fmt: skip


@pytest.mark.slow
def test_the_simulated_day_has_hot_transformers_and_a_moved_meter(settings, fresh_databases):
    warehouse, source = fresh_databases
    start, end = datetime(2026, 3, 10), datetime(2026, 3, 11)
    config = SimulationConfig(meters=20, sensors=0)
    simulate(source, start, end, config, now=datetime(2026, 3, 12))
    assert simulate(source, start, end, config, now=datetime(2026, 3, 12)).get("meter_connections") == 0  # keyed
    load_raw(warehouse, source, start, end)
    build(settings, warehouse)
    assert_hours_add_up_to_the_fleet(warehouse)
    hot = [t.transformer_id for t in make_network(config) if t.runs_hot]
    overloaded = query(
        warehouse,
        "select transformer_id, count(*) from marts.fct_transformer_loading_hourly where is_overloaded group by 1",
    )
    assert hot and {t for t, _ in overloaded} >= set(hot)
    # the moved meter counts on its new transformer from the hour of the move (12:00) on: one meter more there
    _, to, when = moved_meter(make_network(config), start, end)
    meters = dict(
        query(
            warehouse,
            "select to_char(hour_start at time zone 'UTC', 'HH24'), meter_count "
            "from marts.fct_transformer_loading_hourly where transformer_id = %s",
            (to,),
        )
    )
    assert when.hour == 12 and meters["12"] == meters["11"] + 1
