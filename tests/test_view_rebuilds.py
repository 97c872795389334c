"""The project's views are recreated only when they would change (dbt_smartgrid/macros/materializations/view.sql):
an unchanged view is left as it is; one whose SQL, or a var its SQL reads, changed, one dropped with what it
reads, and one under --full-refresh are rebuilt.

A view recreated by dbt is a new object (a new oid): dbt creates it under another name, renames the old one away
and drops it. So a view whose oid survives a build was left as it was, and one with a new oid was rebuilt.
"""

from __future__ import annotations

import pytest

from tests.helpers import build, edited_project, query

pytestmark = pytest.mark.slow

# the views of the hourly build, without their unit tests (tests of logic on fixed rows, not of the views' objects)
VIEWS = ("--select", "config.materialized:view", "--exclude", "tag:report")  # build leaves the unit tests out


def views(warehouse) -> dict[str, tuple[int, str]]:
    """Every view of the warehouse that carries a fingerprint: {schema.name: (oid, comment)}."""
    rows = query(
        warehouse,
        "select n.nspname || '.' || c.relname, c.oid, obj_description(c.oid, 'pg_class') from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'v' "
        "and obj_description(c.oid, 'pg_class') like 'smartgrid view %%'",
    )
    return {name: (int(oid), comment) for name, oid, comment in rows}


def test_an_unchanged_view_is_left_as_it_is_and_a_changed_missing_or_refreshed_one_is_rebuilt(
    settings, marts_built, tmp_path
):
    warehouse, _ = marts_built
    before = views(warehouse)
    # the hourly build's views, each fingerprinted: staging, the VEE rule views, the estimate views, audit
    assert {"staging.stg_ops__meter_readings", "audit.rejected_readings", "intermediate.int_meter_vee_spikes",
            "intermediate.int_meter_like_day_estimates"} <= set(before)  # fmt: skip
    assert len(before) >= 15

    # unchanged: every view is the same object after another build
    build(settings, warehouse, *VIEWS)
    assert views(warehouse) == before

    # dropped, with the views that read it (a table or view recreated by dbt drops its readers so)
    query(warehouse, "drop view staging.stg_ops__meter_readings cascade; select 1")
    dropped = set(before) - set(views(warehouse))
    assert "staging.stg_ops__meter_readings" in dropped
    build(settings, warehouse, *VIEWS)
    after = views(warehouse)
    assert set(after) == set(before)
    assert {name for name in before if after[name][0] != before[name][0]} == dropped

    # an analyst's edit of a view's SQL: that view is rebuilt, with a new fingerprint; the others stay
    def none_rejected(sql: str) -> str:
        assert sql.rstrip().endswith("select * from unioned")
        return sql.rstrip() + " where false  -- an analyst's edit\n"

    before = after
    build(edited_project(settings, tmp_path, "audit/rejected_readings.sql", none_rejected), warehouse, *VIEWS)
    after = views(warehouse)
    assert {name for name in before if after[name] != before[name]} == {"audit.rejected_readings"}
    assert after["audit.rejected_readings"][0] != before["audit.rejected_readings"][0]  # a new view, ...
    assert after["audit.rejected_readings"][1] != before["audit.rejected_readings"][1]  # ... a new fingerprint
    assert "false" in query(warehouse, "select pg_get_viewdef('audit.rejected_readings'::regclass)")[0][0]

    # a var the SQL reads (docs/edit-a-model.md's walkthrough: the spike threshold): the rule's view is rebuilt
    before = after
    build(settings, warehouse, *VIEWS, "--vars", "{vee_spike_pct: 150}")
    after = views(warehouse)
    assert "intermediate.int_meter_vee_spikes" in {name for name in before if after[name][0] != before[name][0]}
    assert "150" in query(warehouse, "select pg_get_viewdef('intermediate.int_meter_vee_spikes'::regclass)")[0][0]

    # --full-refresh recreates the views it selects, fingerprint or not
    before = after
    build(settings, warehouse, "--select", "stg_ops__sensor_readings", "--full-refresh")
    after = views(warehouse)
    assert {name for name in before if after[name][0] != before[name][0]} >= {"staging.stg_ops__sensor_readings"}
