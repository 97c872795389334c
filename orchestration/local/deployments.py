"""`make serve` / `make stop`: a local Prefect server, the process work pool, the deployments and a worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.local.prefect_server import ensure_prefect_api, stop_process_group
from orchestration.settings import Settings

WORK_POOL = "smartgrid-process"
DEPLOYMENTS = ("smartgrid-etl-flow/hourly", "smartgrid-etl-flow/daily-cleanup")


def _prefect(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    prefect = Path(sys.executable).with_name("prefect")
    return subprocess.run(
        [str(prefect), "--no-prompt", *args],
        cwd=settings.repo_root,
        capture_output=True,
        text=True,
        check=check,
    )


def _worker_pid_file(settings: Settings) -> Path:
    return settings.prefect_home / "worker.pid"


def serve(settings: Settings, progress=print) -> str:
    """Start everything the hourly deployment needs; return the UI URL. Safe to run twice."""
    url = ensure_prefect_api(settings, progress=progress)
    if _prefect(settings, "work-pool", "inspect", WORK_POOL, check=False).returncode != 0:
        _prefect(settings, "work-pool", "create", WORK_POOL, "--type", "process")
        progress(f"created work pool {WORK_POOL}")
    done = _prefect(settings, "deploy", "--all", "--prefect-file", "orchestration/prefect.yaml", check=False)
    if done.returncode != 0:
        raise RuntimeError("prefect deploy failed: " + (done.stdout + done.stderr).strip().splitlines()[-1])
    progress("deployed " + ", ".join(DEPLOYMENTS))
    if not worker_running(settings):
        start_worker(settings)
        progress(f"worker started (log: {settings.prefect_home / 'worker.log'})")
    return url.removesuffix("/api")


def worker_running(settings: Settings) -> bool:
    pid_file = _worker_pid_file(settings)
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def start_worker(settings: Settings) -> int:
    prefect = Path(sys.executable).with_name("prefect")
    log = open(settings.prefect_home / "worker.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        [str(prefect), "worker", "start", "--pool", WORK_POOL, "--type", "process"],
        cwd=settings.repo_root,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=dict(os.environ),
    )
    _worker_pid_file(settings).write_text(str(process.pid))
    return process.pid


def stop_worker(settings: Settings) -> bool:
    return stop_process_group(_worker_pid_file(settings))
