"""Scaffolding for the fault tests (tests/test_faults*.py): make a step slow enough to catch it in flight, see that
it is in flight, restart the server, and compare with an undisturbed run. The faults themselves are real: a
`pg_ctl restart`, a SIGKILL of the flow process, a full filesystem, a statement timeout."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from orchestration.db.connection import drop_database, ensure_database
from orchestration.local.simulator import simulate
from orchestration.steps.loader import SOURCE_COLUMNS, load_raw, raw_ddl
from tests import helpers

# the source's meter table becomes a view whose COPY sleeps per row (fault_throttle.ms); other reads are not slowed
THROTTLE_SOURCE = """
alter table meter_readings rename to meter_readings_table;
create table fault_throttle (ms int not null);
insert into fault_throttle values (0);
create function fault_throttled(row_id bigint) returns boolean language plpgsql volatile as $$
declare pause int;
begin
    if current_query() ilike 'copy%' then
        select ms into pause from fault_throttle;
        if pause > 0 then perform pg_sleep(pause / 1000.0); end if;
    end if;
    return row_id is not null;
end $$;
create view meter_readings as select * from meter_readings_table where fault_throttled(id);
select 1
"""
# the insert into raw.meter_readings sleeps per row; fault_inserted (a sequence: not rolled back) counts its rows
SLOW_RAW_INSERT = """
create sequence public.fault_inserted;
create function public.fault_slow_insert() returns trigger language plpgsql as $$
begin perform nextval('public.fault_inserted'); perform pg_sleep(0.01); return new; end $$;
create trigger fault_slow_insert before insert on raw.meter_readings
    for each row execute function public.fault_slow_insert();
select 1
"""
REMOVE_SLOW_RAW_INSERT = "drop trigger fault_slow_insert on raw.meter_readings; select 1"
# the meter mart's insert sleeps per row
SLOW_MART = """
create function marts.fault_slow_row() returns trigger language plpgsql as $$
begin perform pg_sleep(0.05); return new; end $$;
create trigger fault_slow_row before insert on marts.fct_meter_consumption_hourly
    for each row execute function marts.fault_slow_row();
select 1
"""


def throttle_source_copy(source, ms_per_row: int) -> None:
    helpers.query(source, THROTTLE_SOURCE)
    set_throttle(source, ms_per_row)


def set_throttle(source, ms_per_row: int) -> None:
    helpers.query(source, "update fault_throttle set ms = %s; select 1", (ms_per_row,))


def create_raw_tables(warehouse) -> None:
    helpers.query(warehouse, raw_ddl() + "; select 1")


def copy_in_flight(server, source) -> int:
    """Rows the loader's COPY of the source's meter table has streamed so far (0: none running)."""
    rows = helpers.query(
        server,
        "select p.tuples_processed from pg_stat_progress_copy p join pg_stat_activity a using (pid) "
        "where a.application_name = 'smartgrid-loader' and p.datname = %s and a.query ilike '%%meter_readings%%'",
        (source.dbname,),
    )
    return rows[0][0] if rows else 0


def insert_in_flight(warehouse) -> int:
    """Rows the loader's running insert into raw.meter_readings has written so far (0: none running)."""
    running = helpers.scalar(
        warehouse,
        "select count(*) from pg_stat_activity where application_name = 'smartgrid-loader' and state = 'active' "
        "and query ilike '%insert into raw.meter_readings%'",
    )
    inserted = helpers.scalar(warehouse, "select case when is_called then last_value else 0 end from fault_inserted")
    return inserted if running else 0


def wait_for(condition, what: str, timeout: float = 180, alive=None):
    """Poll `condition()` every 50 ms until it is truthy; its value. `alive()` false: the run ended too soon."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert alive is None or alive(), f"the run ended before {what}"
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def no_loader_sessions(warehouse) -> None:
    """Wait until the sessions of a killed loader have ended (a backend notices a dead client only at its next
    write, so an orphaned insert runs to its end and then rolls back)."""
    wait_for(
        lambda: (
            not helpers.scalar(
                warehouse, "select count(*) from pg_stat_activity where application_name = 'smartgrid-loader'"
            )
        ),
        "the killed loader's sessions end",
        timeout=120,
    )


def restart_server(settings) -> None:
    """`pg_ctl restart -m fast` of the embedded server: every session on it (warehouse and source) is cut."""
    from orchestration.local.postgres import _pgserver_system_user

    if not settings.embedded:
        pytest.skip("restarts only the embedded PostgreSQL (POSTGRES_HOST is set)")
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=settings.pgdata, user=_pgserver_system_user())


def undisturbed_marts(settings, warehouse, source, start, days, fleet) -> dict:
    """The marts of an undisturbed load + build of the same simulated days, in databases of their own."""
    quiet_wh = replace(warehouse, dbname="smartgrid_test_undisturbed")
    quiet_src = replace(source, dbname="smartgrid_test_undisturbed_source")
    for target in (quiet_wh, quiet_src):
        drop_database(target)
        ensure_database(target)
    helpers.create_source_tables(quiet_src)
    simulate(quiet_src, start, start + timedelta(days=days), fleet, now=start + timedelta(days=days + 1))
    load_raw(quiet_wh, quiet_src, start, start + timedelta(days=days))
    helpers.build(settings, quiet_wh)
    marts = {mart: helpers.mart_rows(quiet_wh, mart) for mart in helpers.MART_KEYS}
    for target in (quiet_wh, quiet_src):
        drop_database(target)
    return marts


def assert_raw_equals_the_source_row_for_row(warehouse, source) -> None:
    """Contract §2: raw holds every source row, each once, every column as in the source."""
    for table, columns in SOURCE_COLUMNS.items():
        listed = ", ".join(f'"{c}"::text' for c in columns)
        raw = helpers.query(warehouse, f"select {listed} from raw.{table} order by id")
        src = helpers.query(source, f"select {listed} from {table} order by id")
        assert raw == src, (table, len(raw), len(src))
        assert raw, table  # a comparison of two empty tables proves nothing


def assert_marts_equal(warehouse, expected: dict) -> None:
    for mart, rows in expected.items():
        assert rows, mart
        assert helpers.mart_rows(warehouse, mart) == rows, mart


def in_background(action) -> tuple[threading.Thread, dict]:
    """Run action() in a thread; its result (or error) lands in the returned dict."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = action()
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def task_run_counts(flow_state) -> dict[str, int]:
    """Each task of a flow run (by name, without its run suffix) -> how many times Prefect ran it."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_state.state_details.flow_run_id]))
        )
    return {run.name.rsplit("-", 1)[0]: run.run_count for run in runs}
