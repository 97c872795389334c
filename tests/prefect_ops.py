"""What tests/test_deploy_and_schedule.py and tests/test_make_serve.py drive: a webhook that records alerts, a
Prefect server it can restart, the prefect and smartgrid CLIs, and workers it can kill with everything they
started."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
received: list[dict] = []


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        received.append({**json.loads(self.rfile.read(int(self.headers["Content-Length"]))), "at": time.monotonic()})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def webhook_server():
    """A webhook URL (with a token that must never be printed) whose POSTs land in `received`."""
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook?token=t0ken"
    finally:
        server.shutdown()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrefectServer:
    """`prefect server start` with the environment `make serve` gives its server; only the waits between a slot's
    release and the next attempt are shortened (repossessor every 5 s, a waiting run retried after 5 s)."""

    def __init__(self, home: Path):
        from orchestration.local.prefect_server import server_environment

        self.home, port = home, free_port()
        self.url = f"http://127.0.0.1:{port}/api"
        waits = {"PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "5",
                 "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "5"}  # fmt: skip
        self.env = {**os.environ, **server_environment(home, port), **waits}
        self.env.pop("PREFECT_API_URL", None)
        self.command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        self.start()

    def start(self) -> None:
        from orchestration.local.prefect_server import healthy

        with open(self.home / "server.log", "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 180
        while not healthy(self.url):
            assert self.process.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(1)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)

    def log(self) -> str:
        return (self.home / "server.log").read_text()[-2000:]


def cli(*args: str, api: str, extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": api, "COLUMNS": "400", **(extra or {})}
    return subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)


@contextmanager
def prefect_client(api: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        yield client


def alerts(subject: str, text: str = "", wait_seconds: float = 0) -> list[dict]:
    deadline = time.monotonic() + wait_seconds
    while True:
        found = [a for a in received if a.get("subject") == subject and text in a.get("text", "")]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def start_worker(api: str, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_API_URL": api, "SMARTGRID_REPO_ROOT": str(REPO), "PREFECT_WORKER_QUERY_SECONDS": "2"}
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - handed to the worker
    return subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "smartgrid-process"], env=env,
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and every process it started: a machine that died."""
    for pid in [process.pid, *descendants(process.pid)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
