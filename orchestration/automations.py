"""Alerts that do not depend on the flow process: the Prefect automations in orchestration/automations.yaml,
applied to a Prefect API by `smartgrid deploy` (and so by `make serve`), sending through the notification block
of orchestration/alerting.py.

The flow's own hooks (flows/alerts.py) can only speak while its process lives. A run whose process was killed,
whose worker could not start it, or that no worker ever picked up, says nothing; the server sees those states
anyway. When the automations are installed, the flow's failure hook stays quiet so each failure is alerted once.

Every call here names the Prefect API it writes to: `make serve` once printed "automation installed" for
automations it had written to a temporary server of its own, not to the one it started.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.alerting import BLOCK_NAME, webhook_block
from orchestration.settings import Settings

AUTOMATIONS_FILE = Path(__file__).resolve().with_name("automations.yaml")
FAILED = "smartgrid: run failed or crashed"
LATE = "smartgrid: run late"
NO_COMPLETED_RUN = "smartgrid: no completed hourly run"
ZOMBIE = "smartgrid: run stopped sending heartbeats"
STUCK_PENDING = "smartgrid: run stuck in Pending"
ALL = (FAILED, LATE, NO_COMPLETED_RUN, ZOMBIE, STUCK_PENDING)  # every automation smartgrid deploy installs
HEARTBEAT_SECONDS = 60  # PREFECT_FLOWS_HEARTBEAT_FREQUENCY of the deployments' runs (prefect.yaml job_variables)


def automation_specs(settings: Settings, block_id: str | None) -> list[dict]:
    """The automations of AUTOMATIONS_FILE with this deployment's values filled in. Without a notification block
    (no webhook configured), the automations that only notify are left out."""
    text = AUTOMATIONS_FILE.read_text()
    values = {
        "block": block_id or "00000000-0000-0000-0000-000000000000",
        "no_completed_run_seconds": str(settings.alert_no_completed_run_seconds),
        "heartbeat_silence_seconds": str(3 * HEARTBEAT_SECONDS),
    }
    for name, value in values.items():
        text = text.replace("{{ " + name + " }}", value)
    specs = yaml.safe_load(text)["automations"]
    if block_id is None:
        specs = [s for s in specs if all(a["type"] != "send-notification" for a in s["actions"])]
    return specs


def install_automations(settings: Settings, api_url: str) -> list[str]:
    """Save the notification block (when SMARTGRID_ALERT_WEBHOOK_URL is set) and create every automation on
    the Prefect API at `api_url`, replacing those of the same name. Returns the automations' names."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        block_id = None
        if settings.alert_webhook_url is not None:
            block = webhook_block(settings.alert_webhook_url.get_secret_value())
            block_id = str(block.save(BLOCK_NAME, overwrite=True))
        specs = automation_specs(settings, block_id)
        with get_client(sync_client=True) as client:
            for spec in specs:
                for existing in client.read_automations_by_name(spec["name"]):
                    client.delete_automation(existing.id)
                client.create_automation(AutomationCore.model_validate(spec))
    return [spec["name"] for spec in specs]


def alerts_installed() -> bool:
    """True when the failure automation exists on the current Prefect API (so the flow's hook stays quiet)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            return any(a.enabled for a in client.read_automations_by_name(FAILED))
    except Exception:  # no API, or none installed: the hook must alert
        return False
