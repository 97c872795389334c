"""`smartgrid deploy`: the work pool, the deployments (orchestration/prefect.yaml) and the automations
(orchestration/automations.yaml) on a Prefect API, local or remote; safe to run again."""

from __future__ import annotations

from orchestration.cli.common import Verbose, say, settings


def deploy(verbose: Verbose = False) -> int:
    """Apply the work pool, both deployments and the alert automations to PREFECT_API_URL (else the local server)."""
    from orchestration.local.deployments import deploy as apply
    from orchestration.local.prefect_server import ensure_prefect_api

    config = settings()
    url = ensure_prefect_api(config, progress=say)
    apply(config, url, progress=say)
    say(f"deployed to {url}; start a worker there: prefect worker start --pool smartgrid-process")
    return 0
