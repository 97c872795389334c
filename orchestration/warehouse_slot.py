"""The warehouse slot: one Prefect global concurrency limit, `smartgrid-warehouse` (limit 1), that every pipeline
run holds while it writes, so Prefect shows a run that waits for another as waiting.

- Runs of the `hourly` and `daily-cleanup` deployments hold it through deployment concurrency: `smartgrid deploy`
  points both deployments at this one limit (`share_with_deployments`), so a run that finds it taken waits in
  `AwaitingConcurrencySlot` (it is not handed to a worker) whichever deployment holds it.
- Runs started by the CLI (`smartgrid run`, each chunk of `smartgrid backfill`) have no deployment: the flow takes
  the slot itself (`warehouse_slot`), logging that it waits and for how long it will. It holds the slot through a
  lease of LEASE_SECONDS that the process renews: a killed run's slot comes back when the lease expires and the
  server's repossessor service revokes it (every 15 s). An ephemeral Prefect server (prefect_test_harness) runs no
  repossessor, so a killed run would hold the slot for good: SMARTGRID_WAREHOUSE_SLOT=false turns this half off
  there (tests/conftest.py).

The PostgreSQL advisory lock (db/lock.py) stays the database-side guard: it also serialises runs that talk to
different Prefect servers, or to none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from uuid import UUID

log = logging.getLogger(__name__)

WAREHOUSE_LIMIT = "smartgrid-warehouse"
LEASE_SECONDS = 60  # a CLI run's hold on the slot, renewed while it lives


class WarehouseSlotTimeout(RuntimeError):
    """Another run held the warehouse slot for longer than this run was willing to wait."""


def ensure_warehouse_limit(client) -> UUID:
    """The limit's id, created with one slot when the Prefect API has none (a sync Prefect client)."""
    client.upsert_global_concurrency_limit_by_name(WAREHOUSE_LIMIT, 1)
    return client.read_global_concurrency_limit_by_name(WAREHOUSE_LIMIT).id


def share_with_deployments(client, deployment_ids: Iterable[UUID]) -> list[str]:
    """Point each deployment's concurrency at the warehouse limit; drop the per-deployment limit it replaces
    (`prefect deploy` creates `deployment:<id>`). Idempotent: a later `prefect deploy` with `limit: 1` keeps the
    shared limit. Returns one line per deployment changed."""
    shared = ensure_warehouse_limit(client)
    changed = []
    for deployment_id in deployment_ids:
        deployment = client.read_deployment(deployment_id)
        own = deployment.global_concurrency_limit
        if own is not None and own.id == shared:
            continue
        # the client's DeploymentUpdate has no global_concurrency_limit_id; the API does (Prefect 3.9)
        client._client.patch(f"/deployments/{deployment_id}", json={"global_concurrency_limit_id": str(shared)})
        if own is not None and own.name == f"deployment:{deployment_id}":
            client.delete_global_concurrency_limit_by_name(own.name)
        changed.append(f"deployment {deployment.name} shares the concurrency limit {WAREHOUSE_LIMIT}")
    return changed


@contextmanager
def warehouse_slot(enabled: bool = True, wait_seconds: float = 1800) -> Iterator[None]:
    """Hold the warehouse slot for a run that has no deployment (its deployment holds it otherwise); `enabled`:
    settings.warehouse_slot."""
    from prefect.client.orchestration import get_client
    from prefect.concurrency._asyncio import AcquireConcurrencySlotTimeoutError
    from prefect.concurrency.sync import concurrency
    from prefect.runtime import deployment, flow_run
    from prefect.types._concurrency import ConcurrencyLeaseHolder

    if deployment.id or not enabled:
        yield  # taken before the run started, by the deployment's concurrency (prefect.yaml, smartgrid deploy)
        return
    with get_client(sync_client=True) as client:
        ensure_warehouse_limit(client)
        if client.read_global_concurrency_limit_by_name(WAREHOUSE_LIMIT).active_slots:
            log.warning("another smartgrid run holds the warehouse slot (Prefect concurrency limit %s): "
                        "waiting for it, at most %.0f s", WAREHOUSE_LIMIT, wait_seconds)  # fmt: skip
    holder = ConcurrencyLeaseHolder(type="flow_run", id=flow_run.id) if flow_run.id else None
    held = ExitStack()
    try:
        held.enter_context(concurrency(WAREHOUSE_LIMIT, timeout_seconds=wait_seconds, lease_duration=LEASE_SECONDS,
                                       strict=True, holder=holder))  # fmt: skip
    except AcquireConcurrencySlotTimeoutError as exc:
        raise WarehouseSlotTimeout(
            f"another smartgrid run holds the warehouse slot (Prefect concurrency limit {WAREHOUSE_LIMIT}); "
            f"gave up after {wait_seconds:.0f} s (nothing was written by this run)"
        ) from exc
    with held:
        yield
