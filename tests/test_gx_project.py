"""The committed Great Expectations project (gx/) is what orchestration/steps/gx_project.py generates."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import yaml

from orchestration.steps.gx_project import DATA_SOURCE, checked_relations, gx_context, window_queries
from orchestration.steps.loader import load_raw
from tests.helpers import at, insert_meter_rows, query
from tests.loader_rows import meter

GX = Path(__file__).resolve().parents[1] / "gx"


def test_every_window_query_is_an_asset_of_the_committed_project(settings):
    """A relation added in gx_project.py reaches the checkpoint only after `smartgrid gx build` rewrote gx/ and the
    result was committed; this catches a commit that forgot the second step. The assets are the window views
    (`audit.<relation>_window`), whose queries the run writes, so a changed query needs no rebuild."""
    config = yaml.safe_load((GX / "great_expectations.yml").read_text())
    assets = {
        name: (asset["type"], asset.get("schema_name"), asset["table_name"])
        for source in config["fluent_datasources"].values()
        for name, asset in source["assets"].items()
    }
    relations = checked_relations(settings)
    assert list(window_queries(settings, at("10:00"), at("11:00"))) == relations  # one view per checked relation
    assert assets == {f"{relation}_window": ("table", None, f"{relation}_window") for relation in relations}
    checkpoint = json.loads((GX / "checkpoints" / "run_window.json").read_text())
    assert checkpoint["result_format"]["partial_unexpected_count"] == 0  # no sample scans (gx_project.py)


def test_the_checkpoint_validates_every_window_query():
    checkpoint = json.loads((GX / "checkpoints" / "run_window.json").read_text())
    validated = {definition["name"].removesuffix("_window") for definition in checkpoint["validation_definitions"]}
    suites = {path.stem.removesuffix("_window") for path in (GX / "expectations").glob("*.json")}
    assert validated == suites
    assert {"raw_sensor_data", "raw_meter_readings", "fct_meter_consumption_hourly"} <= validated


READINGS = """create temp table readings as
select g as id, timestamp '2026-06-01' + g * interval '1 second' as "timestamp" from generate_series(1, 100000) as g"""
ONE_HOUR = """explain select count(*) from readings
where "timestamp" >= timestamp '2026-06-01 10:00' and "timestamp" < timestamp '2026-06-01 11:00'"""


def test_gx_sessions_read_a_window_in_heap_order(settings, warehouse):
    """gx_project.GX_SESSION, through the committed data source's engine (the URL GX gets at run time): a window
    bounded by constants, as the window views are, is read by a bitmap scan, each heap page once. With PostgreSQL's
    defaults the planner walks the "timestamp" index for the hour's 3,600 rows instead."""
    import sqlalchemy as sa

    engine = gx_context(settings, warehouse).data_sources.get(DATA_SOURCE).get_engine()
    with engine.connect() as conn:
        conn.execute(sa.text(READINGS))
        conn.execute(sa.text('create index on readings ("timestamp")'))
        conn.execute(sa.text("analyze readings"))
        plan = "\n".join(conn.execute(sa.text(ONE_HOUR)).scalars())
    assert "Bitmap Heap Scan on readings" in plan, plan
    assert not re.search(r"(?<!Bitmap )Index (Only )?Scan", plan), plan


def test_a_raw_window_holds_its_rows_to_the_microsecond(settings, fresh_databases):
    """The window's bounds are constants in the view's SQL: [10:00, 11:00) exactly, the end given with a time zone
    (13:00+02:00); a reading 1 µs off the quarter-hour grid is off it; a clock exactly 300 s ahead of the arrival
    is 300 s ahead (the expectation's tolerance), 1 µs more is over it."""
    warehouse, source = fresh_databases
    us, late = timedelta(microseconds=1), timedelta(minutes=5)
    readings = {  # event_id: (timestamp, created_at)
        "before": (at("10:00") - us, at("10:00")),
        "start": (at("10:00"), at("10:00") + late),
        "off_grid": (at("10:15") + us, at("10:15") + late),
        "ahead_300s": (at("10:30"), at("10:30") - late),
        "ahead_more": (at("10:45"), at("10:45") - late - us),
        "last": (at("11:00") - us, at("11:00")),
        "end": (at("11:00"), at("11:00")),
    }
    insert_meter_rows(source, [meter(e, "10:00", timestamp=t, created_at=c) for e, (t, c) in readings.items()])
    load_raw(warehouse, source, at("09:00"), at("12:00"))
    end = (at("11:00") + timedelta(hours=2)).replace(tzinfo=timezone(timedelta(hours=2)))
    view = window_queries(settings, at("10:00").replace(tzinfo=UTC), end)["raw_meter_readings"]
    rows = query(
        warehouse,
        "select event_id, seconds_off_quarter_hour = 0, round(seconds_off_quarter_hour::numeric, 6), "
        f"seconds_ahead_of_arrival from ({view}) as w",
    )
    assert sorted(rows) == [
        ("ahead_300s", True, 0, 300.0),
        ("ahead_more", True, 0, 300.000001),
        ("last", False, Decimal("899.999999"), -0.000001),
        ("off_grid", False, Decimal("0.000001"), -299.999999),
        ("start", True, 0, -300.0),
    ]
