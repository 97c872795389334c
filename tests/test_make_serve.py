"""`SMARTGRID_ALERT_WEBHOOK_URL=... make serve` on a fresh checkout's own Prefect server: the automations land on
the server it starts (issue 21: they once went to another API)."""

from __future__ import annotations

import os
import subprocess

import pytest

from orchestration.automations import ALL
from tests.faults import wait_for
from tests.prefect_ops import BIN, REPO, free_port, webhook_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def webhook():
    with webhook_server() as url:
        yield url


def test_make_serve_installs_the_automations_on_the_server_it_starts(webhook):
    """`SMARTGRID_ALERT_WEBHOOK_URL=... make serve`, then `prefect automation ls` with the profile `make serve`
    wrote (PREFECT_HOME=.smartgrid/prefect, docs/operations.md): the automations are on that server."""
    from orchestration.local.deployments import stop_worker
    from orchestration.local.prefect_server import pid_alive, process_alive, stop_server
    from orchestration.settings import load_settings

    settings = load_settings()
    if process_alive(settings.prefect_home / "server.pid"):
        pytest.skip("this checkout's local Prefect server is running (make stop first): the test starts its own")
    env = {**os.environ, "SMARTGRID_PREFECT_PORT": str(free_port()), "SMARTGRID_ALERT_WEBHOOK_URL": webhook,
           "COLUMNS": "400"}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    try:
        served = subprocess.run(["make", "serve"], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert served.returncode == 0, served.stdout[-2000:] + served.stderr[-2000:]
        listed = subprocess.run([str(BIN / "prefect"), "automation", "ls"], capture_output=True, text=True,
                                env={**env, "PREFECT_HOME": str(settings.prefect_home)}, cwd=REPO)  # fmt: skip
    finally:
        worker_pid_file = settings.prefect_home / "worker.pid"
        worker_pid = worker_pid_file.read_text() if worker_pid_file.exists() else None
        stop_worker(settings)
        stop_server(settings)
    assert listed.returncode == 0, listed.stderr
    # a SIGTERM early in the worker's start once left it polling the stopped server for good (CI, 2026-12-05)
    assert worker_pid, "make serve started no worker"
    wait_for(lambda: not pid_alive(int(worker_pid)), "the worker gone after stop_worker", timeout=5)
    for name in ALL:
        assert listed.stdout.count(name) == 1, (name, listed.stdout)
    assert "automation installed: smartgrid: run failed or crashed" in served.stderr


def test_a_zombie_is_not_alive():
    """A process that exited but was not reaped yet (a zombie) does not run: `make stop` waits for the worker to be
    gone, and a container's PID 1 may never reap it. The child here stays a zombie until it is waited for."""
    from orchestration.local.prefect_server import pid_alive

    child = subprocess.Popen(["sleep", "0.2"])
    assert pid_alive(child.pid)
    wait_for(lambda: not pid_alive(child.pid), "the exited child seen as gone", timeout=10)
    assert child.poll() == 0  # reaped only now: it was a zombie while pid_alive said it was gone
    assert not pid_alive(child.pid)
