"""The embedded PostgreSQL (the `pgserver` package): used when POSTGRES_HOST is unset, data under $SMARTGRID_HOME/pg."""

from __future__ import annotations

import logging
from dataclasses import replace

from orchestration.db.targets import DbTarget
from orchestration.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_PORT = 5432


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source): the configured servers, or the embedded one, started when `start` is true."""
    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")

    def resolved(target: DbTarget) -> DbTarget:
        return target if target.host is not None else replace(target, host=socket_dir, port=EMBEDDED_PORT)

    return resolved(settings.warehouse), resolved(settings.source)


def _silence_pgserver() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def start_embedded(settings: Settings) -> str:
    """Start (or find running) the embedded server; return its Unix-socket directory."""
    _silence_pgserver()
    import pgserver

    settings.pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(settings.pgdata, cleanup_mode=None)  # keeps running after we exit
    info = server.get_postmaster_info()
    return str(info.socket_dir)


def embedded_socket_dir(settings: Settings) -> str | None:
    """The running embedded server's socket directory, or None when it is not running."""
    _silence_pgserver()
    from pgserver.utils import PostmasterInfo

    if not (settings.pgdata / "PG_VERSION").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(settings.pgdata)
    if info is None or not info.is_running():
        return None
    return str(info.socket_dir)


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if embedded_socket_dir(settings) is None:
        return False
    import subprocess

    from pgserver._commands import pg_ctl

    try:
        pg_ctl(["-w", "stop"], pgdata=settings.pgdata, user=_pgserver_system_user())
    except subprocess.CalledProcessError as exc:  # already stopping
        log.warning("pg_ctl stop: %s", exc)
    return True


def _pgserver_system_user() -> str | None:
    import os

    return "pgserver" if os.geteuid() == 0 else None
