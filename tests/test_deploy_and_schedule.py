"""Operations on a real Prefect server (one server for the module, started with the environment `make serve`
gives its own: leases on disk): `smartgrid deploy` applies the deployments and the automations of
orchestration/automations.yaml (the production steps of docs/operations.md, on an empty server); each automation
alerts once for its case with no flow process running; a worker killed while it submits a run does not stop the
schedule, and the run that finds the slot taken shows as waiting."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from orchestration.automations import ALL, FAILED, LATE, NO_COMPLETED_RUN
from orchestration.warehouse_slot import WAREHOUSE_LIMIT
from tests.helpers import insert_meter_rows, insert_sensor_rows, scalar
from tests.prefect_ops import (
    BIN,
    PrefectServer,
    alerts,
    cli,
    kill,
    prefect_client,
    received,
    start_worker,
    webhook_server,
)

pytestmark = pytest.mark.slow
NO_RUN_PERIOD = 30  # SMARTGRID_ALERT_NO_COMPLETED_RUN_SECONDS for this server (production: 7200)


@pytest.fixture(scope="module")
def webhook():
    with webhook_server() as url:
        yield url


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    server = PrefectServer(tmp_path_factory.mktemp("prefect"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(prefect_server):
    return prefect_server.url


@pytest.fixture(scope="module")
def deployed(server, webhook):
    """docs/operations.md's production step, twice: `smartgrid deploy` with PREFECT_API_URL set."""
    extra = {"SMARTGRID_ALERT_WEBHOOK_URL": webhook, "SMARTGRID_ALERT_NO_COMPLETED_RUN_SECONDS": str(NO_RUN_PERIOD)}
    for _ in range(2):  # the second apply replaces, never doubles
        done = cli(str(BIN / "smartgrid"), "deploy", api=server, extra=extra)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "t0ken" not in done.stdout + done.stderr  # the webhook's token is never printed
    return time.monotonic(), done.stderr


def test_deploy_applies_deployments_and_automations_to_an_empty_server(server, deployed):
    from importlib.metadata import version

    _, output = deployed
    listed = cli(str(BIN / "prefect"), "automation", "ls", api=server)
    assert listed.returncode == 0, listed.stderr
    for name in ALL:  # through the CLI; once each, after two deploys
        assert listed.stdout.count(name) == 1, (name, listed.stdout)
    with prefect_client(server) as client:
        for name in ("hourly", "daily-cleanup"):
            deployment = client.read_deployment_by_name(f"smartgrid-etl-flow/{name}")
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.global_concurrency_limit.name == WAREHOUSE_LIMIT  # one slot for both deployments
            assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
            assert deployment.concurrency_options.grace_period_seconds == 120
            assert deployment.version.startswith(version("smartgrid-elt") + "+"), deployment.version  # + the commit
            assert deployment.job_variables["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "60"
    assert "automation installed: smartgrid: run late" in output


def test_each_automation_alerts_once_for_its_case_with_no_flow_process(server, deployed):
    from prefect.states import Crashed, Failed, Scheduled

    installed_at, _ = deployed
    with prefect_client(server) as client:
        hourly = client.read_deployment_by_name("smartgrid-etl-flow/hourly")
        failed = client.create_flow_run_from_deployment(hourly.id)
        client.set_flow_run_state(failed.id, Failed(message="checkpoint run_window failed"), force=True)
        crashed = client.create_flow_run_from_deployment(hourly.id)
        client.set_flow_run_state(crashed.id, Crashed(message="exited with status code -9"), force=True)
        # no worker polls this server now: a run scheduled a minute ago never starts, the server marks it Late
        late = client.create_flow_run_from_deployment(
            hourly.id, state=Scheduled(scheduled_time=datetime.now(UTC) - timedelta(minutes=1))
        )
        try:
            assert len(alerts(FAILED, f"{failed.name} of smartgrid-etl-flow (hourly) is Failed", 90)) == 1
            crash_alerts = alerts(FAILED, f"{crashed.name} of smartgrid-etl-flow (hourly) is Crashed", 90)
            assert len(crash_alerts) == 1 and "status code -9" in crash_alerts[0]["text"]
            assert len(alerts(LATE, f"{late.name} of smartgrid-etl-flow (hourly) is Late", 120)) == 1
            # nothing completed since the automations were installed: one alert after the period, not before
            first = alerts(NO_COMPLETED_RUN, wait_seconds=installed_at + NO_RUN_PERIOD + 60 - time.monotonic())
            assert len(first) == 1 and first[0]["at"] - installed_at >= NO_RUN_PERIOD - 5, first
            assert "smartgrid-etl-flow/hourly" in first[0]["text"]
            time.sleep(max(0.0, first[0]["at"] + NO_RUN_PERIOD * 0.6 - time.monotonic()))
            assert len(alerts(NO_COMPLETED_RUN)) == 1
            assert alerts(FAILED, late.name) == []  # each run alerted for its own case only
        finally:
            client.delete_flow_run(late.id)  # nothing left for the next test's worker to pick up
    assert all("t0ken" not in json.dumps(a) for a in received)


def test_a_worker_killed_while_submitting_a_run_does_not_stop_the_schedule(prefect_server, server, deployed,
                                                                           fresh_databases, tmp_path):  # fmt: skip
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.client.schemas.objects import ConcurrencyOptions

    warehouse, source = fresh_databases
    hour = datetime(2026, 5, 4, 10)
    insert_meter_rows(source, [dict(event_id="m1", meter_id="M", customer_id="C", reading=1, timestamp=hour)])
    insert_sensor_rows(source, [dict(event_id="s1", sensor_id="S", sensor_type="power", value=1, timestamp=hour)])
    window = {"start_time": hour.isoformat(), "end_time": (hour + timedelta(hours=1)).isoformat(),
              "enable_validation": False}  # fmt: skip
    log = tmp_path / "worker.log"
    with prefect_client(server) as client:
        hourly = client.read_deployment_by_name("smartgrid-etl-flow/hourly")
        # the shortest grace period Prefect allows (production: 120 s), so the test waits 60 s, not 120
        client.update_deployment(hourly.id, DeploymentUpdate(
            concurrency_options=ConcurrencyOptions(collision_strategy="ENQUEUE", grace_period_seconds=60)))  # fmt: skip
        stuck = client.create_flow_run_from_deployment(hourly.id, parameters=window)
        worker = start_worker(server, tmp_path)
        try:
            deadline = time.monotonic() + 120
            while client.read_flow_run(stuck.id).state.type.value != "PENDING":  # the worker took the slot
                assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
                time.sleep(0.05)
        finally:
            kill(worker)  # the worker and anything it started, mid-submission
        killed_at = time.monotonic()
        time.sleep(3)
        assert client.read_flow_run(stuck.id).state.type.value == "PENDING"  # nobody will start it: it holds the slot
        prefect_server.stop()  # then `make stop` / `make serve`: the server restarts (its leases must survive)
        prefect_server.start()

        # the next run: it waits, shown as waiting, while the dead submission holds the slot; then it runs
        following = client.create_flow_run_from_deployment(hourly.id, parameters=window)
        worker = start_worker(server, tmp_path)
        try:
            states, deadline = set(), time.monotonic() + 420
            while not (state := client.read_flow_run(following.id).state).is_final():
                states.add(state.name)
                assert time.monotonic() < deadline, (states, log.read_text()[-3000:])
                time.sleep(1)
        finally:
            kill(worker)
        assert state.is_completed(), (state, log.read_text()[-3000:])
        assert "AwaitingConcurrencySlot" in states, states  # waiting, not Running, while the slot was taken
        assert time.monotonic() - killed_at >= 60 - 5  # it ran once the grace period had given the slot back
        assert client.read_flow_run(stuck.id).state.type.value == "PENDING"
        run = client.read_flow_run(following.id)
    assert run.name == "hourly 2026-05-04T10:00Z"  # named after its window (flow_run_name)
    assert scalar(warehouse, "select count(*) from raw.meter_readings") == 1


def test_make_stop_leaves_no_run_holding_a_slot(server, deployed, tmp_path):
    """`smartgrid stop` (make stop), after stopping the worker: its Pending and Running runs are marked Crashed,
    which gives their deployment's slot back before the server stops."""
    from prefect.states import Pending

    from orchestration.local.deployments import release_runs
    from orchestration.settings import load_settings

    port = server.removesuffix("/api").rsplit(":", 1)[1]
    local = load_settings({"SMARTGRID_PREFECT_PORT": port, "SMARTGRID_HOME": str(tmp_path)})  # this server as local
    with prefect_client(server) as client:
        daily = client.read_deployment_by_name("smartgrid-etl-flow/daily-cleanup")
        run = client.create_flow_run_from_deployment(daily.id)
        client.set_flow_run_state(run.id, Pending())  # what a worker does first: it takes the slot
        assert client.read_deployment(daily.id).global_concurrency_limit.active_slots == 1
        lines = release_runs(local)
        assert f"run {run.name} was Pending: marked Crashed, its concurrency slot released" in lines
        assert client.read_flow_run(run.id).state.is_crashed()
        assert client.read_deployment(daily.id).global_concurrency_limit.active_slots == 0
