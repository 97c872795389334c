"""Alerts: the webhook a failed run posts to (retried after a server error), runs that never start or hang
(timeouts that release the run lock), and alerts from Prefect automations that fire even when no flow process
runs (orchestration/flows/alerts.py, watchdog.py, automations.py)."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from orchestration.db.lock import RUN_LOCK_KEY
from tests.helpers import insert_meter_rows, insert_sensor_rows, query, scalar

pytestmark = pytest.mark.slow
HOUR = datetime(2026, 3, 3, 10)


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        length = int(self.headers["Content-Length"])
        _Recorder.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A local HTTP server on 127.0.0.1 that records every JSON POST."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.received.clear()
    yield f"http://127.0.0.1:{server.server_port}/hook?token=t0ken"
    server.shutdown()


def raw_count(warehouse, table: str) -> int:
    """Rows in raw.<table>; 0 while the loader has not created it."""
    exists = scalar(warehouse, "select to_regclass(%s) is not null", (f"raw.{table}",))
    return scalar(warehouse, f"select count(*) from raw.{table}") if exists else 0


def _alerts_mentioning(text: str, wait_seconds: float = 0) -> list[dict]:
    deadline = time.monotonic() + wait_seconds
    while True:
        found = [a for a in _Recorder.received if text in a.get("text", "")]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


def test_a_hung_run_fails_with_a_message_and_releases_the_run_lock(settings, fresh_databases, prefect_api, webhook,
                                                                    monkeypatch):  # fmt: skip
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    warehouse, source = fresh_databases
    insert_meter_rows(source, [dict(event_id="m1", meter_id="M", customer_id="C", reading=1, timestamp=HOUR)])
    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", webhook)
    # the operational database holds a lock on a source table: the load's read blocks inside the driver
    blocker = psycopg2.connect(**source.connect_kwargs(), application_name="test-lock-holder")
    try:
        blocker.cursor().execute("lock table meter_readings in access exclusive mode")
        started = time.monotonic()
        state = smartgrid_etl_flow.with_options(timeout_seconds=20)(
            start_time=HOUR, end_time=HOUR + timedelta(hours=1), return_state=True
        )
        took = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert state.is_failed() and "exceeded timeout of 20 second" in state.message, state.message
    assert took < 90  # 20 s, then the load's retries of the ended connection (backoff with jitter)
    # the lock is free for the next run, and raw holds no meter row: the load's transaction rolled back
    assert query(warehouse, "select pg_try_advisory_lock(%s)", (RUN_LOCK_KEY,)) == [(True,)]
    assert raw_count(warehouse, "meter_readings") == 0
    # the flow's own hook alerted (no automation on this API)
    assert len(_alerts_mentioning("exceeded timeout", wait_seconds=10)) == 1


def test_automations_alert_failed_crashed_and_late_runs_without_a_flow_process(
    prefect_server_with_ui,  # noqa: F811 - the fixture imported above
    webhook,
    monkeypatch,
):
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.states import Crashed, Scheduled

    from orchestration.flows.automations import FAILED, LATE, alerts_installed, install_alert_automations
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    api = prefect_server_with_ui
    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", webhook)
    with temporary_settings(updates={PREFECT_API_URL: api}):
        assert not alerts_installed()
        assert install_alert_automations() == [FAILED, LATE]
        assert install_alert_automations() == [FAILED, LATE]  # installing again replaces, never doubles
        assert alerts_installed()

        # 1. a run that fails (a window that is not a window): alerted once, by the automation
        failed = smartgrid_etl_flow(start_time=HOUR, end_time=HOUR, return_state=True)
        assert failed.is_failed()

        async def server_side_runs():
            async with get_client() as client:
                flow_id = await client.create_flow_from_name("smartgrid-etl-flow")
                await client.create_work_pool(WorkPoolCreate(name="smartgrid-process", type="process"))
                deployment_id = await client.create_deployment(
                    flow_id=flow_id, name="hourly", work_pool_name="smartgrid-process", entrypoint="x.py:f"
                )
                # 2. a run whose process died: the worker reports it Crashed; no flow code runs at all
                crashed = await client.create_flow_run_from_deployment(deployment_id)
                await client.set_flow_run_state(
                    crashed.id, Crashed(message="Flow run infrastructure exited with non-zero status code -9"),
                    force=True,
                )  # fmt: skip
                # 3. the worker is down: a run scheduled a minute ago never starts; the server marks it Late
                late = await client.create_flow_run_from_deployment(
                    deployment_id, state=Scheduled(scheduled_time=datetime.now(UTC) - timedelta(minutes=1))
                )
                return crashed, late

        crashed, late = asyncio.run(server_side_runs())

    failed_name = failed.state_details.flow_run_id
    assert len(_alerts_mentioning(str(failed_name), wait_seconds=90)) == 1
    crash_alerts = _alerts_mentioning(f"{crashed.name} of smartgrid-etl-flow (hourly) is Crashed", wait_seconds=90)
    assert len(crash_alerts) == 1 and "status code -9" in crash_alerts[0]["text"]
    assert crash_alerts[0]["subject"] == FAILED and crash_alerts[0]["source"] == "prefect-automation"
    late_alerts = _alerts_mentioning(f"{late.name} of smartgrid-etl-flow (hourly) is Late", wait_seconds=120)
    assert len(late_alerts) == 1 and late_alerts[0]["subject"] == LATE
    time.sleep(3)  # nothing else arrives: each run alerted exactly once, and the webhook's token was not logged
    assert len(_Recorder.received) == 3, _Recorder.received


def test_a_stale_source_is_a_warning_with_an_alert(settings, fresh_databases, webhook, monkeypatch):
    from orchestration.settings import load_settings
    from orchestration.steps.freshness import check_source_freshness, declared_freshness
    from orchestration.steps.loader import load_raw

    assert declared_freshness(settings)["ops.meter_readings"] == (
        "raw.meter_readings",
        "_loaded_at",
        {"warn": timedelta(hours=2), "error": timedelta(hours=26)},
    )
    warehouse, source = fresh_databases
    insert_meter_rows(source, [dict(event_id="m1", meter_id="M", customer_id="C", reading=1, timestamp=HOUR)])
    insert_sensor_rows(source, [dict(event_id="s1", sensor_id="S", sensor_type="power", value=1, timestamp=HOUR)])
    load_raw(warehouse, source, HOUR, HOUR + timedelta(hours=1))
    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", webhook)
    settings = load_settings()  # now with the webhook
    assert check_source_freshness(settings, warehouse) == []  # just loaded
    assert _Recorder.received == []
    # 3 hours without a new meter load (dbt warns after 2), 27 hours without a sensor load (error after 26)
    query(warehouse, "update raw.meter_readings set _loaded_at = now() - interval '3 hours'; select 1")
    query(warehouse, "update raw.sensor_data set _loaded_at = now() - interval '27 hours'; select 1")
    warnings = check_source_freshness(settings, warehouse)
    assert [w.split(":")[1].strip() for w in warnings] == [
        "source ops.sensor_data is stale",
        "source ops.meter_readings is stale",
    ]
    assert "(error_after 1 day, 2:00:00 " in warnings[0] and "(warn_after 2:00:00 " in warnings[1]
    assert len(_Recorder.received) == 1 and _Recorder.received[0]["warnings"] == warnings


def test_the_alert_webhook_is_retried_after_a_server_error():
    from orchestration.flows.alerts import post_json

    answers = [503, 204]

    class Flaky(_Recorder):
        def do_POST(self):  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(answers.pop(0))
            self.end_headers()

    server = http.server.HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert post_json(f"http://127.0.0.1:{server.server_port}/hook", {"text": "x"}) is True
    finally:
        server.shutdown()
    assert answers == []  # the 503 was retried, the 204 ended it
    assert post_json("http://127.0.0.1:1/hook", {"text": "x"}, attempts=2, timeout=1) is False  # nobody listens


@pytest.mark.slow
def test_a_failed_run_posts_an_alert_to_the_webhook(settings, fresh_databases, prefect_api, monkeypatch):
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from tests.helpers import insert_implausible_meter_jump

    _, source = fresh_databases
    hour = datetime(2026, 4, 1, 10)
    insert_implausible_meter_jump(source, hour)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.received.clear()
    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook?token=abc")
    try:
        state = smartgrid_etl_flow(start_time=hour, end_time=hour + timedelta(hours=1), return_state=True)
    finally:
        server.shutdown()
    assert state.is_failed()
    assert len(_Recorder.received) == 1
    alert = _Recorder.received[0]
    assert alert["state"] == "Failed" and "checkpoint run_window failed" in alert["message"]
    assert alert["text"].startswith("smartgrid ELT: flow run ")
