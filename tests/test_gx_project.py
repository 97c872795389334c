"""The committed Great Expectations project (gx/) is what orchestration/steps/gx_project.py generates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from orchestration.steps.gx_project import DATA_SOURCE, checked_relations, gx_context

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
