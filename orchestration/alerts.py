"""Failure alerts: a flow-state hook that POSTs a JSON message to a webhook (Slack-, Teams- or
anything-compatible: the text is in "text"). Configure SMARTGRID_ALERT_WEBHOOK_URL; the URL often carries a
token, so it is never logged."""

from __future__ import annotations

import json
import logging
import os
import random
import time
import urllib.request

log = logging.getLogger(__name__)
WEBHOOK_ENV = "SMARTGRID_ALERT_WEBHOOK_URL"


def post_json(url: str, payload: dict, *, attempts: int = 3, timeout: float = 10) -> bool:
    """POST with exponential backoff and jitter; return False (and log) when the webhook stays unreachable."""
    body = json.dumps(payload, default=str).encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status < 300:
                    return True
        except OSError as exc:
            log.warning("alert webhook attempt %d of %d failed: %s", attempt, attempts, type(exc).__name__)
        if attempt < attempts:
            time.sleep(random.uniform(0, 2 ** (attempt - 1)))
    return False


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect on_failure / on_crashed hook."""
    url = os.environ.get(WEBHOOK_ENV)
    if not url:
        return
    from orchestration.automations import alerts_installed

    if alerts_installed():  # the server's automation alerts this run (orchestration/automations.py)
        return
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
