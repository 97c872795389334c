"""`make serve` / `make stop`: the local Prefect server, the process work pool, the deployments and a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.local.prefect_server import ensure_prefect_api, prefect, process_alive, using_api
from orchestration.settings import Settings, subprocess_environment

WORK_POOL = "smartgrid-process"
DEPLOYMENTS = ("smartgrid-etl-flow/hourly", "smartgrid-etl-flow/daily-cleanup")


def serve(settings: Settings, progress=print) -> str:
    """Start everything the hourly deployment needs; return the UI URL. Safe to run twice."""
    url = ensure_prefect_api(settings, progress=progress)
    deploy(settings, url, progress=progress)
    if not process_alive(_worker_pid_file(settings)):
        start_worker(settings, url)
        progress(f"worker started (log: {settings.prefect_home / 'worker.log'})")
    return url.removesuffix("/api")


def deploy(settings: Settings, url: str, progress=print) -> list[str]:
    """Apply the work pool, the deployments of prefect.yaml and the automations of automations.yaml to the Prefect
    API at `url` (local or remote); idempotent. Returns the automations' names."""
    from orchestration.automations import install_automations

    if ensure_work_pool(settings, url):
        progress(f"created work pool {WORK_POOL}")
    prefect_file = deployment_file(settings)
    prefect(settings, "deploy", "--all", "--prefect-file", str(prefect_file), api=url,
            extra_env={"SMARTGRID_DEPLOY_VERSION": deploy_version(settings)})  # fmt: skip
    progress("deployed " + ", ".join(DEPLOYMENTS) + f" to {url}")
    for line in share_warehouse_slot(settings, url):
        progress(line)
    names = install_automations(settings, url)
    for name in names:
        progress(f"automation installed: {name}")
    if settings.alert_webhook_url is None:
        progress("SMARTGRID_ALERT_WEBHOOK_URL is not set: only the automations that send no alert were installed")
    return names


def share_warehouse_slot(settings: Settings, url: str) -> list[str]:
    """Both deployments take their one slot from the same limit (orchestration/warehouse_slot.py)."""
    from prefect.client.orchestration import get_client

    from orchestration.warehouse_slot import share_with_deployments

    with using_api(settings, url), get_client(sync_client=True) as client:
        ids = [client.read_deployment_by_name(name).id for name in DEPLOYMENTS]
        return share_with_deployments(client, ids)


def deployment_file(settings: Settings) -> Path:
    """orchestration/prefect.yaml, or, with SMARTGRID_GIT_REPOSITORY set, a copy whose pull step clones that
    repository and branch (its `definitions.pull_from_git`), for workers on other machines."""
    import yaml

    source = settings.repo_root / "orchestration" / "prefect.yaml"
    if not settings.git_repository:
        return source
    config = yaml.safe_load(source.read_text())
    config["pull"] = yaml.safe_load(
        yaml.safe_dump(config["definitions"]["pull_from_git"])
        .replace("{{ $SMARTGRID_GIT_REPOSITORY }}", settings.git_repository)
        .replace("{{ $SMARTGRID_GIT_BRANCH }}", settings.git_branch)
    )
    target = settings.prefect_home / "prefect.git.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def deploy_version(settings: Settings) -> str:
    """The deployments' version: the package version and the checkout's commit (`-dirty` with local changes)."""
    from importlib.metadata import version

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=settings.repo_root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = "-dirty" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{version('smartgrid-elt')}+{commit}{dirty}"


def ensure_work_pool(settings: Settings, url: str) -> bool:
    """Create the process work pool through Prefect's client; False when it exists already."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with using_api(settings, url), get_client(sync_client=True) as client:
        try:
            client.read_work_pool(WORK_POOL)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=WORK_POOL, type="process"))
            return True


def _worker_pid_file(settings: Settings) -> Path:
    return settings.prefect_home / "worker.pid"


def start_worker(settings: Settings, url: str) -> int:
    """`prefect worker start` in the background, its pid in a file: Prefect has no background mode for workers.

    SMARTGRID_REPO_ROOT tells the deployments' pull step (orchestration/prefect.yaml) where this clone is.
    """
    prefect_cli = Path(sys.executable).with_name("prefect")
    env = subprocess_environment({"PREFECT_API_URL": url, "PREFECT_HOME": str(settings.prefect_home),
                                  "SMARTGRID_REPO_ROOT": str(settings.repo_root)})  # fmt: skip
    log = open(settings.prefect_home / "worker.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [str(prefect_cli), "worker", "start", "--pool", WORK_POOL, "--type", "process"],
        cwd=settings.repo_root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    _worker_pid_file(settings).write_text(str(process.pid))
    return process.pid


def stop_worker(settings: Settings, grace_seconds: float = 20) -> bool:
    """SIGTERM the worker's process group, SIGKILL it if it still runs after `grace_seconds`; False when no worker
    was running. A SIGTERM in the worker's first seconds (`make serve` then `make stop`) was once forwarded as a
    SIGINT that the starting worker missed: it started anyway and polled the stopped server for good."""
    pid_file = _worker_pid_file(settings)
    alive = process_alive(pid_file)
    if alive:
        group = int(pid_file.read_text())
        os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while process_alive(pid_file) and time.monotonic() < deadline:
            time.sleep(0.5)
        if process_alive(pid_file):
            os.killpg(group, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return alive


def release_runs(settings: Settings) -> list[str]:
    """After the local worker stopped: mark the deployments' runs it left Pending or Running as Crashed, so none
    holds a deployment's concurrency slot across `make stop` / `make serve`. One line per run; [] when the local
    server is not up (a remote API is left alone)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    from orchestration.local.prefect_server import healthy, local_api_url

    url = local_api_url(settings)
    if settings.prefect_api_url or not healthy(url):
        return []
    lines = []
    with using_api(settings, url), get_client(sync_client=True) as client:
        ids = [client.read_deployment_by_name(name).id for name in DEPLOYMENTS if _exists(client, name)]
        if not ids:
            return []
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PENDING, StateType.RUNNING]))
            ),
        )
        for run in runs:
            client.set_flow_run_state(run.id, Crashed(message="its worker was stopped (smartgrid stop)"), force=True)
            lines.append(f"run {run.name} was {run.state.name}: marked Crashed, its concurrency slot released")
    return lines


def _exists(client, name: str) -> bool:
    from prefect.exceptions import ObjectNotFound

    try:
        client.read_deployment_by_name(name)
        return True
    except ObjectNotFound:
        return False
