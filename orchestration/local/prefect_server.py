"""The local Prefect server the CLI uses when PREFECT_API_URL is unset: Prefect's own background server.

Prefect's temporary (ephemeral) server takes 20-30 s to start on a small machine and its default startup
timeout is 20 s, so the CLI never relies on it: it runs `prefect server start --background` (state under
$SMARTGRID_HOME/prefect), waits with `prefect server status --wait`, and leaves it running so the UI keeps
the run history; `prefect server stop` stops it. A Prefect profile in that home points the plain `prefect`
CLI at it (`export PREFECT_HOME=.smartgrid/prefect`, docs/operations.md).
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.settings import Settings, subprocess_environment

STARTUP_TIMEOUT_SECONDS = 180
PROFILE = "smartgrid"


def local_api_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.prefect_port}/api"


def api_url(settings: Settings) -> str:
    """The Prefect API the CLI talks to: PREFECT_API_URL when set, else the local server."""
    return settings.prefect_api_url or local_api_url(settings)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


LEASE_STORAGE = "prefect.server.concurrency.lease_storage.filesystem"


def server_environment(home: Path, port: int) -> dict[str, str]:
    """Variables for `prefect server start`. The UI's API address does not follow --port by itself: without
    PREFECT_UI_API_URL a server on another port serves a UI that talks to port 4200.

    Concurrency leases on disk (under PREFECT_HOME), not in the server's memory: a run holds the deployment's
    slot through a lease; Prefect's default keeps leases in memory, so after `make stop` / `make serve` the
    slot of a run caught mid-submission stayed taken with no lease left to expire, and the schedule stopped."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": LEASE_STORAGE,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }


def prefect(
    settings: Settings, *args: str, api: str | None = None, check: bool = True, extra_env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the `prefect` CLI with this project's PREFECT_HOME (and `api` as PREFECT_API_URL, if given)."""
    server = server_environment(settings.prefect_home, settings.prefect_port)
    env = subprocess_environment({**server, **(extra_env or {})})
    env.pop("PREFECT_API_URL", None)
    if api:
        env["PREFECT_API_URL"] = api
    executable = Path(sys.executable).with_name("prefect")
    done = subprocess.run(
        [str(executable), "--no-prompt", *args],
        cwd=settings.repo_root,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines() or ["no output"]
        raise RuntimeError(f"prefect {' '.join(args[:2])} failed: {lines[-1].strip()}")
    return done


def ensure_prefect_api(settings: Settings, *, progress=print) -> str:
    """Return the Prefect API URL to use, starting the local server when none is configured."""
    if settings.prefect_api_url:
        return settings.prefect_api_url
    url = local_api_url(settings)
    if not healthy(url):
        settings.prefect_home.mkdir(parents=True, exist_ok=True)
        progress(f"starting the local Prefect server on {url.removesuffix('/api')} (about 30 s the first time)")
        if not process_alive(settings.prefect_home / "server.pid"):
            prefect(settings, "server", "stop", check=False)  # removes the pid file of a server that died
        started = prefect(settings, "server", "start", "--background", "--host", "127.0.0.1",
                          "--port", str(settings.prefect_port), check=False)  # fmt: skip
        if started.returncode != 0:
            detail = (started.stdout + started.stderr).strip().splitlines()[-1:]
            raise RuntimeError(
                f"the Prefect server did not start (is port {settings.prefect_port} in use? set "
                f"SMARTGRID_PREFECT_PORT): {' '.join(detail)}"
            )
        prefect(settings, "server", "status", "--wait", "--timeout", str(STARTUP_TIMEOUT_SECONDS), api=url)
    write_profile(settings, url)
    return url


def write_profile(settings: Settings, url: str) -> Path:
    """A Prefect profile under the project's PREFECT_HOME, active, pointing at `url`: with
    PREFECT_HOME=.smartgrid/prefect the plain `prefect` CLI reaches the local server. Written by hand: it is
    three lines of the TOML Prefect documents, and `prefect profile create/use` + `config set` take 10 s."""
    path = settings.prefect_home / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)  # also when the server at `url` was started by another clone
    path.write_text(f'active = "{PROFILE}"\n\n[profiles.{PROFILE}]\nPREFECT_API_URL = "{url}"\n')
    return path


@contextmanager
def using_api(settings: Settings, url: str) -> Iterator[None]:
    """Prefect calls in this process (flows, clients, prefect-dbt) go to `url`, with results under the
    project's PREFECT_HOME. Set process-wide, not with `temporary_settings`: prefect-dbt creates each dbt
    node's task run from dbt's own threads, which see only Prefect's global settings (read from the process
    environment); with a context-local setting they started a temporary server of their own."""
    from orchestration.settings import library_environment

    with library_environment({"PREFECT_API_URL": url, "PREFECT_HOME": str(settings.prefect_home)}):
        from prefect.context import refresh_global_settings_context
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        refresh_global_settings_context()
        try:
            yield
        finally:
            APILogWorker.drain_all(timeout=30)  # the run's last logs and events reach `url`, not a default
            EventsWorker.drain_all(timeout=30)
    refresh_global_settings_context()


def stop_server(settings: Settings) -> bool:
    """Stop the local server (`prefect server stop`); return False when none was running."""
    return "Server stopped" in prefect(settings, "server", "stop", check=False).stdout


def process_alive(pid_file: Path) -> bool:
    """Whether the process recorded in `pid_file` runs (False without the file)."""
    try:
        return pid_alive(int(pid_file.read_text()))
    except (FileNotFoundError, ValueError):
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs. A zombie does not: a process that exited after its parent did stays one
    until PID 1 reaps it, which a container's PID 1 may never do (`make stop` then waited out the worker's grace)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process (the embedded PostgreSQL's, when the CLI runs as root)
        pass
    try:  # Linux: the state follows the command name, in parentheses
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS), or the process just went
        return True
