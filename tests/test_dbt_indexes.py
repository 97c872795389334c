"""Which indexes the incremental tables have, checked on the parsed manifest (docs/scaling.md: an index led by an
id takes an entry on almost every leaf page each hour; one led by the time takes the hour at its right edge)."""

from __future__ import annotations

import re

from tests.dbt_commands import models

# the incremental tables with an index led by an id, and why: a model or an analyst looks up one meter, sensor or
# customer over a span of time through it (docs/scaling.md)
ID_FIRST_INDEXES = {
    "int_meter_readings_validated": ["meter_id"],  # a meter's previous valid reading, however old, to pair a new one
    "int_sensor_readings_validated": ["sensor_id"],  # a changed sensor-hour's valid readings, for fct_sensor_hourly
    "int_meter_intervals": ["meter_id"],  # a meter's long gaps and irregular intervals over a span of days
}


def leading_columns(node) -> list[str]:
    """The leading column of each index of a model's table but its unique key's: its config's `indexes` and the
    indexes its post-hooks create."""
    declared = [index["columns"][0] for index in node.config.get("indexes") or [] if not index.get("unique")]
    hooks = [re.search(r"create index .* on \{\{ this \}\} \((\w+)", hook.sql) for hook in node.config.post_hook]
    return declared + [hook.group(1) for hook in hooks if hook]


def test_an_index_leads_with_an_id_only_where_one_meter_or_sensor_is_looked_up_over_time(manifest):
    """docs/scaling.md: an index led by an id takes an entry on almost every leaf page each hour (a full-page
    image in the WAL each); one led by the time takes the hour at its right edge. A look-up by the whole key
    (a meter and an hour) finds its rows through either, so its index leads with the time. The unique index of a
    table's key is its grain, which analysts read one meter, sensor or customer at a time."""
    incremental = {name: node for name, node in models(manifest).items() if node.config.materialized == "incremental"}
    id_first = {
        name: sorted({c for c in leading_columns(node) if c.endswith("_id")}) for name, node in incremental.items()
    }
    assert {name: columns for name, columns in id_first.items() if columns} == ID_FIRST_INDEXES
