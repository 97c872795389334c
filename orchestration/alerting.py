"""Every alert of the pipeline goes through one Prefect notification block: a Custom Webhook block named
`smartgrid-alert-webhook` that POSTs JSON (the message in "text") to SMARTGRID_ALERT_WEBHOOK_URL.

`smartgrid deploy` saves the block on the Prefect API, and the server's automations (orchestration/automations.yaml)
send through it. Flow hooks and steps (freshness, invariants) call `send_alert`: it loads the saved block, or,
where none was saved (a local `smartgrid run` before any deploy), builds the same block from the setting. A
delivery that fails after three attempts is not only logged: `send_alert` returns the reason, and, inside a
flow run, attaches it to the run as the markdown artifact `smartgrid-alert-undelivered`.

This module sits beside settings: flows and steps both import it; it imports neither (imports run one way).
The URL often carries a token, so it is never logged.
"""

from __future__ import annotations

import logging
import time

from orchestration.settings import Settings, load_settings

log = logging.getLogger(__name__)
BLOCK_NAME = "smartgrid-alert-webhook"
UNDELIVERED_KEY = "smartgrid-alert-undelivered"
ATTEMPTS = 3


def webhook_block(url: str):
    """The notification block: a JSON POST with the message in "text" and the subject in "subject"."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    return CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url=url,
        json_data={"text": "{{body}}", "subject": "{{subject}}", "source": "smartgrid"},
        timeout=10,
    )


def _block(settings: Settings):
    """The saved block (the one the automations use), else one built from SMARTGRID_ALERT_WEBHOOK_URL."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    try:
        return CustomWebhookNotificationBlock.load(BLOCK_NAME, validate=False)
    except Exception:  # no API, or no block saved on it
        return webhook_block(settings.alert_webhook_url.get_secret_value())


def send_alert(subject: str, text: str, *, settings: Settings | None = None, flow_run_id=None) -> str | None:
    """Send one alert; None when delivered (or no webhook is configured), else why it was not.

    Three attempts, 1 s then 2 s apart. An undelivered alert is logged and, when `flow_run_id` is given (or
    this runs inside a flow run), recorded on that run as an artifact."""
    settings = settings or load_settings()
    if settings.alert_webhook_url is None:
        return None
    error = "no attempt"
    for attempt in range(ATTEMPTS):
        try:
            _block(settings).notify(body=text, subject=subject)
            return None
        except Exception as exc:  # httpx errors, HTTP 4xx/5xx: the reason, never the URL
            status = getattr(getattr(exc, "response", None), "status_code", None)
            error = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
            if attempt + 1 < ATTEMPTS:
                time.sleep(2**attempt)
    reason = f"alert {subject!r} was not delivered after {ATTEMPTS} attempts: {error}"
    log.error(reason)
    _record_undelivered(reason, text, flow_run_id)
    return reason


def _record_undelivered(reason: str, text: str, flow_run_id) -> None:
    """The undelivered alert as a markdown artifact of the flow run (shown on the run's page)."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import ArtifactCreate
        from prefect.runtime import flow_run

        run_id = flow_run_id or flow_run.id
        if not run_id:
            return
        markdown = f"**Undelivered alert.** {reason}\n\nThe alert's text:\n\n> {text}"
        with get_client(sync_client=True) as client:
            client.create_artifact(ArtifactCreate(
                key=UNDELIVERED_KEY, type="markdown", data=markdown, flow_run_id=run_id,
                description="an alert the webhook did not accept",
            ))  # fmt: skip
    except Exception as exc:  # no API: the log line above is what is left
        log.warning("could not record the undelivered alert on the run: %s", type(exc).__name__)
