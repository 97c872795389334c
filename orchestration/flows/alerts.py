"""Failure alerts from the flow itself: an on_failure / on_crashed hook that sends through the one notification
block (orchestration/alerting.py). It stays quiet when the server's automations are installed on the run's
Prefect API (orchestration/automations.py): they alert the same run, also when no flow process is left to do it."""

from __future__ import annotations

from orchestration.alerting import send_alert
from orchestration.settings import load_settings


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect on_failure / on_crashed hook. An undelivered alert is recorded on the run (alerting.py)."""
    settings = load_settings()
    if settings.alert_webhook_url is None:
        return
    from orchestration.automations import alerts_installed

    if alerts_installed():  # the server's automation alerts this run
        return
    message = (state.message or "").strip()
    text = f"smartgrid ELT: flow run {flow_run.name} {state.name.lower()}: {message}"
    send_alert(f"smartgrid: run {state.name.lower()}", text, settings=settings, flow_run_id=flow_run.id)
