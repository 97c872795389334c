"""Failure alerts: a flow-state hook that POSTs a JSON message to a webhook (Slack-, Teams- or
anything-compatible: the text is in "text"). Configure SMARTGRID_ALERT_WEBHOOK_URL; the URL often carries a
token, so it is never logged."""

from __future__ import annotations

import json
import logging

from orchestration.settings import load_settings

log = logging.getLogger(__name__)


def post_json(url: str, payload: dict, *, attempts: int = 3, timeout: float = 10) -> bool:
    """POST with urllib3's retries (exponential backoff with jitter, also on 429/5xx answers); return False
    (and log, without the URL) when the webhook stays unreachable."""
    import urllib3

    retries = urllib3.Retry(
        total=attempts - 1,
        backoff_factor=1,
        backoff_jitter=1,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST too: a duplicate alert is better than none
        raise_on_status=False,
    )
    body = json.dumps(payload, default=str).encode()
    headers = {"Content-Type": "application/json"}
    try:
        response = urllib3.request("POST", url, body=body, headers=headers, retries=retries, timeout=timeout)
    except urllib3.exceptions.HTTPError as exc:
        log.warning("alert webhook unreachable after %d attempts: %s", attempts, type(exc).__name__)
        return False
    return response.status < 300


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect on_failure / on_crashed hook."""
    webhook = load_settings().alert_webhook_url
    if webhook is None:
        return
    from orchestration.flows.automations import alerts_installed

    if alerts_installed():  # the server's automation alerts this run (flows/automations.py)
        return
    url = webhook.get_secret_value()
    parameters = {k: v for k, v in (flow_run.parameters or {}).items() if k in ("start_time", "end_time")}
    message = (state.message or "").strip()
    payload = {
        "text": f"smartgrid ELT: flow run {flow_run.name} {state.name.lower()}: {message}",
        "flow": flow.name,
        "flow_run": flow_run.name,
        "flow_run_id": str(flow_run.id),
        "state": state.name,
        "message": message,
        "window": parameters,
    }
    if not post_json(url, payload):
        log.error("could not deliver the failure alert for flow run %s", flow_run.name)
