"""Alerts that do not depend on the flow process: Prefect automations on the server, sending through a
Prefect notification block (a Custom Webhook to SMARTGRID_ALERT_WEBHOOK_URL).

The flow's own on_failure hook (orchestration/alerts.py) can only speak while its process lives. A run whose
process was killed, whose worker could not start it, or that no worker ever picked up, says nothing. The
server sees those states anyway, so two automations watch `smartgrid-etl-flow` there:

- `smartgrid: run failed or crashed`: the run entered Failed, Crashed or TimedOut (a worker reports Crashed when
  the flow process died; a timeout fails the run);
- `smartgrid: run late`: a scheduled run did not start on time (the server marks it Late, e.g. when the worker
  is down).

`make serve` installs them (`install_alert_automations`); when they are installed, the flow's hook stays quiet
so each failure is alerted once.
"""

from __future__ import annotations

from orchestration.settings import load_settings

FLOW_NAME = "smartgrid-etl-flow"
BLOCK_NAME = "smartgrid-alert-webhook"
FAILED = "smartgrid: run failed or crashed"
LATE = "smartgrid: run late"
EVENTS = {
    FAILED: {"prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut"},
    LATE: {"prefect.flow-run.Late"},
}
BODY = (
    "smartgrid ELT: flow run {{ flow_run.name }} of {{ flow.name }}"
    "{% if deployment %} ({{ deployment.name }}){% endif %} is {{ flow_run.state.name }}: "
    "{{ flow_run.state.message or 'no message' }} (scheduled {{ flow_run.expected_start_time }}, id {{ flow_run.id }})"
)


def webhook_block(url: str):
    """The notification block: a JSON POST with the message in "text", as the flow's hook sends."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    return CustomWebhookNotificationBlock(
        name=BLOCK_NAME,
        url=url,
        json_data={"text": "{{body}}", "subject": "{{subject}}", "source": "prefect-automation"},
        timeout=10,
    )


def install_alert_automations(url: str | None = None) -> list[str]:
    """Create (or replace) the notification block and both automations on the current Prefect API.

    Returns the automations' names; [] when no webhook is configured."""
    from prefect.automations import Automation
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture

    webhook = load_settings().alert_webhook_url
    url = url or (webhook.get_secret_value() if webhook else None)
    if not url:
        return []
    block_id = webhook_block(url).save(BLOCK_NAME, overwrite=True)
    for name, events in EVENTS.items():
        _delete(name)
        Automation(
            name=name,
            description=f"Sends an alert through the {BLOCK_NAME!r} block (orchestration/flows/automations.py).",
            trigger=EventTrigger(
                expect=events,
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW_NAME},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[SendNotification(block_document_id=block_id, subject=name, body=BODY)],
        ).create()
    return list(EVENTS)


def _delete(name: str) -> None:
    from prefect.automations import Automation

    while True:
        try:
            Automation.read(name=name).delete()
        except ValueError:  # none (left) with that name
            return


def alerts_installed() -> bool:
    """True when the failure automation exists on the current Prefect API (so the flow's hook stays quiet)."""
    from prefect.automations import Automation

    try:
        return Automation.read(name=FAILED).enabled
    except Exception:  # no API, or none installed: the hook must alert
        return False
