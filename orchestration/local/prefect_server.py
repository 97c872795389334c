"""A local Prefect server for the CLI: started once, reused by every later command.

Prefect's temporary (ephemeral) server takes 20-30 s to start on a small machine and its default startup
timeout is 20 s, so the CLI never relies on it: with PREFECT_API_URL unset it starts `prefect server` in the
background (state under $SMARTGRID_HOME/prefect), waits for it to be healthy, and leaves it running so the
UI keeps the run history.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from orchestration.settings import Settings

STARTUP_TIMEOUT_SECONDS = 180


def api_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.prefect_port}/api"


def ui_url() -> str:
    return os.environ.get("PREFECT_API_URL", "").removesuffix("/api") or "(no Prefect server)"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def use_local_home(settings: Settings) -> None:
    """Keep Prefect's profile, database and results under $SMARTGRID_HOME, not in ~/.prefect."""
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))


def ensure_prefect_api(settings: Settings, *, progress=print) -> str:
    """Return the Prefect API URL to use, starting the local server when none is configured."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    use_local_home(settings)
    url = api_url(settings)
    if not healthy(url):
        _start_server(settings, url, progress)
    os.environ["PREFECT_API_URL"] = url
    return url


def server_environment(home: Path, port: int) -> dict[str, str]:
    """Variables for `prefect server start`. The UI's API address does not follow --port by itself: without
    PREFECT_UI_API_URL a server on another port serves a UI that talks to port 4200."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }


def _pid_file(settings: Settings) -> Path:
    return settings.prefect_home / "server.pid"


def _start_server(settings: Settings, url: str, progress) -> None:
    log_path = settings.prefect_home / "server.log"
    progress(f"starting the local Prefect server on {url.removesuffix('/api')} (about 30 s the first time)")
    env = {**os.environ, **server_environment(settings.prefect_home, settings.prefect_port)}
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).with_name("prefect")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(settings.prefect_port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    _pid_file(settings).write_text(str(process.pid))
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if healthy(url):
            return
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(
                f"the Prefect server exited (is port {settings.prefect_port} in use? set SMARTGRID_PREFECT_PORT): "
                + " | ".join(tail)
            )
        time.sleep(1)
    raise RuntimeError(f"the Prefect server did not answer within {STARTUP_TIMEOUT_SECONDS} s; see {log_path}")


def stop_server(settings: Settings) -> bool:
    """Stop the server `ensure_prefect_api` started; return False when none was running."""
    return stop_process_group(_pid_file(settings))


def stop_process_group(pid_file: Path) -> bool:
    """SIGTERM the process group recorded in `pid_file` (a background server or worker); False if none ran."""
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
