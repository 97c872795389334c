"""Transformer and feeder loading from the meters' energy (docs/data-contract.md §4), on tests/network_dataset.py's
hand-worked network: loading_pct, a meter moved mid-window, each bad-input reason, the 'unconnected' bucket, the
invariant per hour, and an incremental build equal to a full one. The numbers are worked out in the comments
(power factor 0.95: 10 kVA is 9.5 kW, 5 kVA 4.75 kW, 15 kVA 14.25 kW).
"""

from __future__ import annotations

import re

import pytest

from orchestration.cli.demo import _print_hottest_transformers
from orchestration.steps.dbt_runner import DbtFailure, run_dbt
from orchestration.steps.loader import load_raw
from tests import network_dataset as net
from tests.helpers import at, build, d, insert_meter_rows, query
from tests.network_dataset import assert_hours_add_up_to_the_fleet

pytestmark = pytest.mark.slow

N = None  # no rating: no loading_pct, no overload flag


def transformer_hours(warehouse) -> dict[tuple[str, str], tuple]:
    """{(transformer, 'hh'): (feeder, kWh, loading_pct, is_overloaded, meters, estimated meters)}."""
    rows = query(
        warehouse,
        "select transformer_id, to_char(hour_start at time zone 'UTC', 'HH24'), feeder_id, energy_kwh, "
        "loading_pct, is_overloaded, meter_count, estimated_meter_count, avg_kw = energy_kwh "
        "from marts.fct_transformer_loading_hourly",
    )
    assert all(row[-1] for row in rows)  # the average kW of an hour is its kWh
    return {(t, h): tuple(rest[:-1]) for t, h, *rest in rows}


def feeder_hours(warehouse) -> dict[tuple[str, str], tuple]:
    """{(feeder, 'hh'): (kWh, rated_kva, loading_pct, is_overloaded, transformers, unrated, meters, estimated)}."""
    rows = query(
        warehouse,
        "select feeder_id, to_char(hour_start at time zone 'UTC', 'HH24'), energy_kwh, rated_kva, loading_pct, "
        "is_overloaded, transformer_count, unrated_transformer_count, meter_count, estimated_meter_count "
        "from marts.fct_feeder_loading_hourly",
    )
    return {(f, h): tuple(rest) for f, h, *rest in rows}


def exceptions(warehouse) -> set[tuple]:
    rows = query(
        warehouse,
        "select reason_code, meter_id, transformer_id, to_char(valid_from at time zone 'UTC', 'MM-DD HH24:MI'), "
        "to_char(valid_to at time zone 'UTC', 'MM-DD HH24:MI') from audit.network_exceptions",
    )
    return set(rows)


def test_transformer_and_feeder_loading_from_the_meters(settings, fresh_databases, capsys):
    warehouse, source = fresh_databases
    insert_meter_rows(source, net.readings())
    net.insert_network(source, "transformers", net.TRANSFORMERS)
    net.insert_network(source, "meter_connections", net.CONNECTIONS)
    load_raw(warehouse, source, at("10:00"), at("13:00"))
    build(settings, warehouse)

    # hour 10: T1 = A 4 + B 2 + M 1 (M's move at 10:30 counts from hour 11) = 7 kWh: 700 / 9.5 = 73.68 %
    #          T2 = C 6: 600 / 4.75 = 126.32 %, overloaded;  T3 = D 8, no rating
    #          unconnected = U 3 (no connection) + X 5 (T404 is unknown) = 8;  T4 has no meters: no row
    # hour 11: T1 = A 4 + B 2 = 6: 600 / 9.5 = 63.16 %; B's 11:00-11:30 interval is interpolated (11:15 missing)
    #          T2 = C 6 + M 1 = 7: 700 / 4.75 = 147.37 %;  T3 and unconnected as in hour 10
    first = {
        ("T1", "10"): ("F1", d(7), d("73.68"), False, 3, 0),
        ("T2", "10"): ("F1", d(6), d("126.32"), True, 1, 0),
        ("T3", "10"): ("F2", d(8), N, N, 1, 0),
        ("unconnected", "10"): ("unconnected", d(8), N, N, 2, 0),
        ("T1", "11"): ("F1", d(6), d("63.16"), False, 2, 1),
        ("T2", "11"): ("F1", d(7), d("147.37"), True, 2, 0),
        ("T3", "11"): ("F2", d(8), N, N, 1, 0),
        ("unconnected", "11"): ("unconnected", d(8), N, N, 2, 0),
    }
    assert transformer_hours(warehouse) == first
    # feeders: F1 = T1 + T2 = 13 kWh on 15 kVA: 1300 / 14.25 = 91.23 % in both hours; F2 = T3, unrated: no loading
    assert feeder_hours(warehouse) == {
        ("F1", "10"): (d(13), d(15), d("91.23"), False, 2, 0, 4, 0),
        ("F2", "10"): (d(8), N, N, N, 1, 1, 1, 0),
        ("unconnected", "10"): (d(8), N, N, N, 0, 0, 2, 0),
        ("F1", "11"): (d(13), d(15), d("91.23"), False, 2, 0, 4, 1),
        ("F2", "11"): (d(8), N, N, N, 1, 1, 1, 0),
        ("unconnected", "11"): (d(8), N, N, N, 0, 0, 2, 0),
    }
    assert_hours_add_up_to_the_fleet(warehouse)  # 7 + 6 + 8 + 8 = 29 = 4 + 2 + 6 + 8 + 1 + 3 + 5 in both hours
    # each bad input with its reason; U has energy from hour 10 and no connection at all yet
    assert exceptions(warehouse) == {
        ("unknown_transformer", "X", "T404", "01-01 00:00", None),
        ("missing_rating", None, "T3", "01-01 00:00", None),
        ("missing_feeder", None, "T4", "01-01 00:00", None),
        ("unconnected_meter", "U", None, "03-10 10:00", None),
    }
    hour_10_built = query(
        warehouse,
        "select loaded_through from marts.fct_transformer_loading_hourly where hour_start = %s",
        (at("10:00").isoformat() + "+00",),
    )

    # A later load: B's late 11:15 reading, U connected to T1 from 11:00, T3 rated 10 kVA from 11:00.
    insert_meter_rows(source, net.readings(late=True))
    net.insert_network(source, "meter_connections", net.SECOND_CONNECTIONS, created_at=at("+1 10:00"))
    net.insert_network(source, "transformers", net.SECOND_TRANSFORMERS, created_at=at("+1 10:00"))
    load = load_raw(warehouse, source, at("+1 10:00"), at("+1 11:00"))
    assert (load.tables["meter_connections"].rows_loaded, load.tables["transformers"].rows_loaded) == (1, 1)
    build(settings, warehouse)

    # hour 11: T1 = A 4 + B 2 (now all measured) + U 3 = 9: 900 / 9.5 = 94.74 %;  T3 = D 8 on 10 kVA: 84.21 %
    #          unconnected = X 5 alone;  hour 10 is not rebuilt and keeps its rows
    second = first | {
        ("T1", "11"): ("F1", d(9), d("94.74"), False, 3, 0),
        ("T3", "11"): ("F2", d(8), d("84.21"), False, 1, 0),
        ("unconnected", "11"): ("unconnected", d(5), N, N, 1, 0),
    }
    assert transformer_hours(warehouse) == second
    after_late_rows = feeder_hours(warehouse)
    # F1 in hour 11 = 9 + 7 = 16 kWh: 1600 / 14.25 = 112.28 %, overloaded; F2 = T3 rated 10: 84.21 %
    assert after_late_rows[("F1", "11")] == (d(16), d(15), d("112.28"), True, 2, 0, 5, 0)
    assert after_late_rows[("F2", "11")] == (d(8), d(10), d("84.21"), False, 1, 0, 1, 0)
    assert after_late_rows[("unconnected", "11")] == (d(5), N, N, N, 0, 0, 1, 0)
    assert_hours_add_up_to_the_fleet(warehouse)  # hour 11: 9 + 7 + 8 + 5 = 29
    assert (
        query(
            warehouse,
            "select loaded_through from marts.fct_transformer_loading_hourly where hour_start = %s",
            (at("10:00").isoformat() + "+00",),
        )
        == hour_10_built
    )
    # T3's unrated version now ends at 11:00, and so does U's unconnected time
    assert exceptions(warehouse) == {
        ("unknown_transformer", "X", "T404", "01-01 00:00", None),
        ("missing_rating", None, "T3", "01-01 00:00", "03-10 11:00"),
        ("missing_feeder", None, "T4", "01-01 00:00", None),
        ("unconnected_meter", "U", None, "03-10 10:00", "03-10 11:00"),
    }

    # the incremental builds equal a full one
    build(settings, warehouse, "--select", "fct_transformer_loading_hourly+", "--full-refresh")
    assert transformer_hours(warehouse) == second
    assert feeder_hours(warehouse) == after_late_rows

    # what `make demo` prints: the hottest transformers by peak loading, their local hour (Berlin: UTC+1 in March)
    # T2 peaks at 147.37 % in hour 11 (12:00 local), 7 kW on 5 kVA, over the limit in both hours; unconnected:
    # 8 kWh (U, X) in hour 10 + 5 kWh (X) in hour 11 = 13 kWh in 2 + 1 = 3 meter-hours
    _print_hottest_transformers(settings, at("10:00"), at("12:00"))
    printed = capsys.readouterr().out
    assert re.search(r"T2\s+F1\s+5\s+147\.4\s+7\.0\s+12:00\s+2 *\n", printed), printed
    assert re.search(r"T1\s+F1\s+10\s+94\.7\s+9\.0\s+12:00\s+0 *\n", printed), printed
    assert "unconnected: 13.0 kWh in 3 meter-hours" in printed

    # the invariant as the pipeline checks it (dbt test, tag invariant): a transformer-hour 1 kWh off fails it
    query(
        warehouse,
        "update marts.fct_transformer_loading_hourly set energy_kwh = energy_kwh + 1, loaded_through = now() "
        "where transformer_id = 'T1' and hour_start = %s; select 1",
        (at("11:00").isoformat() + "+00",),
    )
    with pytest.raises(DbtFailure, match="assert_network_hours_add_up_to_the_fleet"):
        run_dbt(settings, warehouse, "test", "--select", "assert_network_hours_add_up_to_the_fleet", prefect=False)
