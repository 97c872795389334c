"""`make serve` / `make stop`: the local Prefect server, the process work pool, the deployments and a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from orchestration.local.prefect_server import ensure_prefect_api, prefect, process_alive, using_api
from orchestration.settings import Settings, subprocess_environment

WORK_POOL = "smartgrid-process"
DEPLOYMENTS = ("smartgrid-etl-flow/hourly", "smartgrid-etl-flow/daily-cleanup")


def serve(settings: Settings, progress=print) -> str:
    """Start everything the hourly deployment needs; return the UI URL. Safe to run twice."""
    url = ensure_prefect_api(settings, progress=progress)
    if ensure_work_pool(settings, url):
        progress(f"created work pool {WORK_POOL}")
    prefect(settings, "deploy", "--all", "--prefect-file", "orchestration/prefect.yaml", api=url)
    progress("deployed " + ", ".join(DEPLOYMENTS))
    if not process_alive(_worker_pid_file(settings)):
        start_worker(settings, url)
        progress(f"worker started (log: {settings.prefect_home / 'worker.log'})")
    return url.removesuffix("/api")


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


def stop_worker(settings: Settings) -> bool:
    """SIGTERM the worker's process group; False when no worker was running."""
    pid_file = _worker_pid_file(settings)
    alive = process_alive(pid_file)
    if alive:
        os.killpg(int(pid_file.read_text()), signal.SIGTERM)
    pid_file.unlink(missing_ok=True)
    return alive
