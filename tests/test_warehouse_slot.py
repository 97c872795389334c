"""The warehouse slot (orchestration/warehouse_slot.py) on a real Prefect server with `smartgrid deploy`'s
deployments: hourly, daily-cleanup and CLI runs take one slot, and a waiting run shows as waiting; a CLI run killed
while it holds the slot gives it back when its lease expires."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import datetime, timedelta

import pytest

from orchestration.warehouse_slot import WAREHOUSE_LIMIT
from tests.helpers import insert_meter_rows, scalar
from tests.prefect_ops import BIN, REPO, PrefectServer, cli, kill, prefect_client, start_worker

pytestmark = pytest.mark.slow
HOUR = datetime(2026, 5, 4, 10)
WINDOW = {"start_time": HOUR.isoformat(), "end_time": (HOUR + timedelta(hours=1)).isoformat(),
          "enable_validation": False}  # fmt: skip
WAITING_AT_LOCK = "select count(*) from pg_stat_activity where application_name = 'smartgrid-run-lock'"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Prefect server as `make serve` starts it (its repossessor checks leases every 5 s here, 15 s by default),
    with the deployments of `smartgrid deploy`."""
    prefect_server = PrefectServer(tmp_path_factory.mktemp("prefect"))
    done = cli(str(BIN / "smartgrid"), "deploy", api=prefect_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    yield prefect_server.url
    prefect_server.stop()


def hold_the_run_lock(warehouse):
    """A session holding the pipeline's advisory lock: a run that took the slot waits inside, at the lock."""
    from orchestration.db.connection import connect
    from orchestration.db.lock import RUN_LOCK_KEY

    blocker = connect(warehouse, application="test-blocker")
    blocker.autocommit = True
    blocker.cursor().execute("select pg_advisory_lock(%s)", (RUN_LOCK_KEY,))
    return blocker


def smartgrid_run(server: str) -> subprocess.Popen:
    """`smartgrid run` of WINDOW from the command line, against `server`, holding the slot as it does by default."""
    command = [str(BIN / "smartgrid"), "run", "--start", WINDOW["start_time"], "--end", WINDOW["end_time"],
               "--no-validation"]  # fmt: skip
    env = {**os.environ, "PREFECT_API_URL": server, "SMARTGRID_WAREHOUSE_SLOT": "true"}  # conftest turns it off
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_hourly_daily_and_cli_runs_wait_for_one_warehouse_slot(server, fresh_databases, tmp_path):
    """One hourly run holds the warehouse (it sits at the advisory lock, which the test holds); meanwhile a
    daily-cleanup run shows AwaitingConcurrencySlot, never Running (for 20 s), and a `smartgrid run` from the CLI
    waits for the slot before it even asks for the lock. Once the lock is released, all three complete."""
    warehouse, source = fresh_databases
    insert_meter_rows(source, [dict(event_id="m1", meter_id="M", customer_id="C", reading=1, timestamp=HOUR)])
    blocker = hold_the_run_lock(warehouse)
    worker, cli_run = start_worker(server, tmp_path), None
    try:
        with prefect_client(server) as client:
            hourly = client.read_deployment_by_name("smartgrid-etl-flow/hourly")
            daily = client.read_deployment_by_name("smartgrid-etl-flow/daily-cleanup")
            first = client.create_flow_run_from_deployment(hourly.id, parameters=WINDOW)
            deadline = time.monotonic() + 300
            while scalar(warehouse, WAITING_AT_LOCK) < 1:  # the hourly run is inside, waiting at the lock
                assert time.monotonic() < deadline and worker.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(0.5)
            second = client.create_flow_run_from_deployment(daily.id, parameters={**WINDOW, "enable_cleanup": False})
            cli_run = smartgrid_run(server)
            states, until = set(), time.monotonic() + 20
            while time.monotonic() < until:  # 20 s (the worker asks every 2 s), read from Prefect and PostgreSQL
                states.add(client.read_flow_run(second.id).state.name)
                assert client.read_flow_run(first.id).state.is_running()
                assert client.read_global_concurrency_limit_by_name(WAREHOUSE_LIMIT).active_slots == 1
                assert scalar(warehouse, WAITING_AT_LOCK) == 1  # neither the daily nor the CLI run reached it
                assert cli_run.poll() is None
                time.sleep(2)
            assert "AwaitingConcurrencySlot" in states and "Running" not in states, states
            blocker.close()  # the hourly run goes on; then the others, one at a time
            deadline = time.monotonic() + 600
            for run in (first, second):
                while not (state := client.read_flow_run(run.id).state).is_final():
                    assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
                    time.sleep(1)
                assert state.is_completed(), state
            output = cli_run.communicate(timeout=600)[0]
    finally:
        blocker.close()
        kill(worker)
        if cli_run is not None and cli_run.poll() is None:
            kill(cli_run)
    assert cli_run.returncode == 0, output[-3000:]
    assert "another smartgrid run holds the warehouse slot" in output, output[-3000:]
    assert scalar(warehouse, "select count(*) from raw.meter_readings") == 1


def test_a_cli_run_killed_while_it_holds_the_slot_gives_it_back_when_its_lease_expires(server, fresh_databases):
    """A `smartgrid run` takes the free slot and waits at the lock the test holds; SIGKILLed there, it renews its
    lease no more: the server revokes it 60 s on (LEASE_SECONDS), at the next repossessor pass (every 5 s here)."""
    warehouse, _ = fresh_databases
    blocker = hold_the_run_lock(warehouse)
    cli_run = smartgrid_run(server)
    try:
        with prefect_client(server) as client:
            deadline = time.monotonic() + 120
            while scalar(warehouse, WAITING_AT_LOCK) < 1:  # it holds the slot and waits inside, at the lock
                assert time.monotonic() < deadline and cli_run.poll() is None, cli_run.stdout.read()[-3000:]
                time.sleep(0.2)
            assert client.read_global_concurrency_limit_by_name(WAREHOUSE_LIMIT).active_slots == 1
            kill(cli_run)
            killed_at = time.monotonic()
            while client.read_global_concurrency_limit_by_name(WAREHOUSE_LIMIT).active_slots:
                # docs/operations.md promises about 75 s (a 60 s lease, a repossessor pass every 15 s; 5 s here)
                assert time.monotonic() - killed_at < 90, "the killed run's slot was not given back within 90 s"
                time.sleep(1)
            assert time.monotonic() - killed_at > 30  # given back by the lease's expiry, not at once
    finally:
        blocker.close()
        if cli_run.poll() is None:
            kill(cli_run)
