"""Alerts: the webhook a failed run posts to (retried after a server error), runs that never start or hang
(timeouts that release the run lock), and alerts from Prefect automations that fire even when no flow process
runs (orchestration/flows/alerts.py, watchdog.py, alerting.py); the automations are in
tests/test_deploy_and_schedule.py."""

from __future__ import annotations

import http.server
import json
import threading
import time
from datetime import datetime, timedelta

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


def test_a_stale_source_warns_with_an_alert_and_past_error_after_fails(settings, fresh_databases, webhook,
                                                                       monkeypatch):  # fmt: skip
    from orchestration.settings import load_settings
    from orchestration.steps.freshness import SourceStale, check_source_freshness, declared_freshness
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
    # 3 hours without a new meter load: past warn_after (2 h), not error_after (26 h): a warning and one alert
    query(warehouse, "update raw.meter_readings set _loaded_at = now() - interval '3 hours'; select 1")
    warnings = check_source_freshness(settings, warehouse)
    assert len(warnings) == 1 and "source ops.meter_readings is stale" in warnings[0]
    assert "3.0 h old (warn_after 2:00:00 " in warnings[0]
    assert len(_Recorder.received) == 1 and _Recorder.received[0]["text"] == "smartgrid ELT: " + warnings[0]
    assert _Recorder.received[0]["subject"] == "smartgrid: stale source"
    # 27 hours without a sensor load: past error_after, the check fails, naming the table and the age
    query(warehouse, "update raw.sensor_data set _loaded_at = now() - interval '27 hours'; select 1")
    with pytest.raises(SourceStale, match=r"source ops.sensor_data is stale: its newest raw load is 27.0 h old "
                                          r"\(error_after 1 day, 2:00:00 "):  # fmt: skip
        check_source_freshness(settings, warehouse)


def test_an_alert_is_retried_after_a_server_error_and_an_undelivered_one_is_reported(monkeypatch):
    from orchestration.alerting import send_alert
    from orchestration.settings import load_settings

    answers = [503, 204]

    class Flaky(_Recorder):
        def do_POST(self):  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(answers.pop(0))
            self.end_headers()

    server = http.server.HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")  # no Prefect API: the block is built here
    try:
        monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook?token=s3cret")
        assert send_alert("s", "x", settings=load_settings()) is None  # delivered
    finally:
        server.shutdown()
    assert answers == []  # the 503 was retried, the 204 ended it
    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", "http://127.0.0.1:1/hook?token=s3cret")  # nobody listens
    reason = send_alert("smartgrid: run failed", "x", settings=load_settings())
    assert reason.startswith("alert 'smartgrid: run failed' was not delivered after 3 attempts: ConnectError")
    assert "s3cret" not in reason


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
    alert = _Recorder.received[0]  # through the notification block (orchestration/alerting.py)
    assert alert["subject"] == "smartgrid: run failed" and alert["source"] == "smartgrid"
    assert alert["text"].startswith("smartgrid ELT: flow run run 2026-04-01T10:00Z failed: ")
    assert "checkpoint run_window failed" in alert["text"]


def test_an_undelivered_failure_alert_is_recorded_on_the_run(prefect_api, monkeypatch):
    from prefect.artifacts import Artifact

    from orchestration.alerting import UNDELIVERED_KEY
    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow

    monkeypatch.setenv("SMARTGRID_ALERT_WEBHOOK_URL", "http://127.0.0.1:1/hook?token=s3cret")  # nobody listens
    state = smartgrid_etl_flow(start_time=HOUR, end_time=HOUR, return_state=True)  # an empty window: it fails
    assert state.is_failed()
    artifact = Artifact.get(UNDELIVERED_KEY)
    assert artifact is not None and artifact.flow_run_id == state.state_details.flow_run_id
    assert "was not delivered after 3 attempts: ConnectError" in artifact.data and "s3cret" not in artifact.data
