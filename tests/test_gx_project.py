"""The committed Great Expectations project (gx/) is what orchestration/steps/gx_project.py generates."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from orchestration.steps.gx_project import window_queries

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
    queries = window_queries(settings)
    assert assets == {f"{relation}_window": ("table", None, f"{relation}_window") for relation in queries}
    assert all(query.endswith(" offset 0") for query in queries.values())  # planned on its own (gx_project.py)
    checkpoint = json.loads((GX / "checkpoints" / "run_window.json").read_text())
    assert checkpoint["result_format"]["partial_unexpected_count"] == 0  # no sample scans (gx_project.py)


def test_the_checkpoint_validates_every_window_query():
    checkpoint = json.loads((GX / "checkpoints" / "run_window.json").read_text())
    validated = {definition["name"].removesuffix("_window") for definition in checkpoint["validation_definitions"]}
    suites = {path.stem.removesuffix("_window") for path in (GX / "expectations").glob("*.json")}
    assert validated == suites
    assert {"raw_sensor_data", "raw_meter_readings", "fct_meter_consumption_hourly"} <= validated
