"""Test fixtures: a real PostgreSQL (the embedded one, or POSTGRES_* when set), real dbt, Prefect and GX.

Tests use their own databases (smartgrid_test_warehouse, smartgrid_test_source) on that server, dropped
and recreated where a test needs a clean slate. `make test` runs them in two processes: tests/parallel.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

os.environ["POSTGRES_DB"] = "smartgrid_test_warehouse"
os.environ["SOURCE_POSTGRES_DB"] = "smartgrid_test_source"
# the session's Prefect API is an ephemeral server, which never revokes an expired lease: a run killed by a test
# would hold the warehouse slot for good (orchestration/warehouse_slot.py;
# tests/test_warehouse_slot.py tests the slot on a real server)
os.environ["SMARTGRID_WAREHOUSE_SLOT"] = "false"

import pytest  # noqa: E402

from tests import parallel  # noqa: E402
from tests.parallel import (  # noqa: E402, F401 - its hooks
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_protocol,
)

parallel.isolate_worker()  # under pytest-xdist: this worker's own embedded PostgreSQL (tests/parallel.py)

from orchestration.db.connection import drop_database, ensure_database  # noqa: E402
from orchestration.local.postgres import resolve_targets  # noqa: E402
from orchestration.settings import load_settings  # noqa: E402
from tests import helpers  # noqa: E402


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def targets(settings):
    """(warehouse, source) on the test server, both databases created; starts the embedded PostgreSQL if needed."""
    warehouse, source = resolve_targets(settings)
    parallel.tune_worker_server(settings, warehouse)
    ensure_database(warehouse)
    ensure_database(source)
    yield warehouse, source
    parallel.stop_worker_server(settings)


@pytest.fixture(scope="session")
def warehouse(targets):
    return targets[0]


@pytest.fixture(scope="session")
def source(targets):
    return targets[1]


def recreate(warehouse, source) -> None:
    """Empty warehouse and source databases, with the source tables of docs/data-contract.md §1."""
    for target in (warehouse, source):
        drop_database(target)
        ensure_database(target)
    helpers.create_source_tables(source)


@pytest.fixture
def fresh_databases(warehouse, source):
    """Empty warehouse and source databases, with the source tables of docs/data-contract.md §1."""
    recreate(warehouse, source)
    return warehouse, source


@pytest.fixture(scope="session")
def prefect_api():
    """One throwaway Prefect API for the whole session (its server takes ~25 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def build_marts_dataset(settings, warehouse, source):
    """tests/marts_dataset.py's rows in the fresh source, loaded and built: (warehouse, source)."""
    from orchestration.steps.loader import load_raw
    from tests.marts_dataset import END, METER_ROWS, SENSOR_ROWS

    helpers.insert_sensor_rows(source, SENSOR_ROWS)
    helpers.insert_meter_rows(source, METER_ROWS)
    load_raw(warehouse, source, helpers.at("10:00"), END)
    helpers.build(settings, warehouse)
    return warehouse, source


@pytest.fixture
def marts_built(settings, fresh_databases):
    """tests/marts_dataset.py's rows in the source, loaded and built: (warehouse, source)."""
    return build_marts_dataset(settings, *fresh_databases)


@pytest.fixture(scope="module")
def marts_built_once(settings, warehouse, source):
    """marts_built, once for a module whose tests only read the marts (tests/test_marts_values.py)."""
    recreate(warehouse, source)
    return build_marts_dataset(settings, warehouse, source)


def simulated_days(fresh_databases, start, days: int, fleet):
    """`days` simulated days of `fleet` from `start` in the fresh source, simulated as seen a day after them."""
    from orchestration.local.simulator import simulate

    warehouse, source = fresh_databases
    simulate(source, start, start + timedelta(days=days), fleet, now=start + timedelta(days=days + 1))
    return warehouse, source


@pytest.fixture
def three_days(fresh_databases):
    """Three simulated days of a small fleet (helpers.THREE_DAYS_START, THREE_DAYS_FLEET) in the source."""
    return simulated_days(fresh_databases, helpers.THREE_DAYS_START, 3, helpers.THREE_DAYS_FLEET)


@pytest.fixture
def one_day(fresh_databases):
    """One simulated day of a small fleet (helpers.ONE_DAY_START, ONE_DAY_FLEET) in the source."""
    return simulated_days(fresh_databases, helpers.ONE_DAY_START, 1, helpers.ONE_DAY_FLEET)


@pytest.fixture
def prefect_server_with_ui(tmp_path):
    """A real `prefect server start` (the test harness serves no UI), on a free port, with its own home."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from orchestration.local.prefect_server import healthy, server_environment

    env = {**os.environ, **server_environment(tmp_path / "prefect", port)}
    env.pop("PREFECT_API_URL", None)
    prefect = str(Path(sys.executable).with_name("prefect"))
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - handed to the server process
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while not healthy(url):
        assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-2000:]
        time.sleep(0.2)
    yield url
    os.killpg(server.pid, 15)
    server.wait(timeout=60)
    log.close()


@pytest.fixture(scope="module")
def hand_worked(settings, warehouse, source):
    """The warehouse built from tests/report_dataset.py's rows, with its three runs recorded (one dbt build per
    test module)."""
    from orchestration.steps.loader import load_raw
    from tests import network_dataset, report_dataset

    recreate(warehouse, source)
    helpers.insert_meter_rows(source, report_dataset.METER_ROWS)
    helpers.insert_sensor_rows(source, report_dataset.SENSOR_ROWS)
    for table, rows in report_dataset.NETWORK.items():
        network_dataset.insert_network(source, table, rows)
    load_raw(warehouse, source, report_dataset.DAY, report_dataset.DAY + timedelta(hours=3))
    helpers.build(settings, warehouse)
    report_dataset.record_runs(warehouse)
    return warehouse


@pytest.fixture(scope="module")
def report(settings, hand_worked, tmp_path_factory):
    """(ReportResult, the page's HTML) of the grid report over report_dataset.WINDOW."""
    from orchestration.report import build_report
    from tests.report_dataset import WINDOW

    path = tmp_path_factory.mktemp("report") / "grid-report.html"
    result = build_report(settings, hand_worked, *WINDOW, path)
    return result, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def manifest(settings, warehouse):
    """The dbt project as `dbt parse` reads it (tests/test_dbt_project.py, tests/test_dbt_indexes.py)."""
    from tests.dbt_commands import dbt_result

    return dbt_result(settings, warehouse, "parse")
