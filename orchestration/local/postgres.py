"""The embedded PostgreSQL (the `pgserver` package): used when POSTGRES_HOST is unset, data under $SMARTGRID_HOME/pg."""

from __future__ import annotations

import logging
from dataclasses import replace

from orchestration.db.targets import DbTarget
from orchestration.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_PORT = 5432
# The embedded server as a warehouse needs it (docs/operations.md, "The warehouse server's settings"). On
# PostgreSQL's defaults (128 MB of shared buffers, a checkpoint at every 1 GB of WAL) one `make bench` made 370
# requested checkpoints against 10 timed ones: the first write to a page after a checkpoint logs the whole page, so
# each meter model wrote more the larger its indexes grew.
SERVER_SETTINGS = {"shared_buffers": "512MB", "max_wal_size": "4GB", "checkpoint_timeout": "15min"}


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source): the configured servers, or the embedded one, started when `start` is true."""
    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")
        if start:
            tune_embedded(settings, replace(settings.warehouse, host=socket_dir, port=EMBEDDED_PORT))

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


def tune_embedded(settings: Settings, warehouse: DbTarget) -> None:
    """Give the embedded server SERVER_SETTINGS where it differs (ALTER SYSTEM). shared_buffers takes a restart:
    done at once when no other session is connected (a server just started), else at its next start."""
    import psycopg2

    try:
        differ, others = _apply_server_settings(warehouse)
    except psycopg2.Error as exc:  # e.g. a least-privilege role that may not connect to `postgres`
        log.info("embedded PostgreSQL: settings not checked (%s)", str(exc).strip().splitlines()[0])
        return
    if "shared_buffers" in differ and not others:
        from pgserver._commands import pg_ctl

        log.info("embedded PostgreSQL: restarting once for shared_buffers = %s", SERVER_SETTINGS["shared_buffers"])
        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=settings.pgdata, user=_pgserver_system_user())


def _apply_server_settings(warehouse: DbTarget) -> tuple[list[str], int]:
    """ALTER SYSTEM for each of SERVER_SETTINGS the server differs in, as a superuser (else nothing); (the names
    changed, the other client sessions connected)."""
    from orchestration.db.connection import connected

    with connected(replace(warehouse, dbname="postgres"), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("select name, current_setting(name) from pg_settings where name = any(%s)",
                    (list(SERVER_SETTINGS),))  # fmt: skip
        differ = [name for name, value in cur.fetchall() if value != SERVER_SETTINGS[name]]
        cur.execute("select current_setting('is_superuser') = 'on'")
        if not differ or not cur.fetchone()[0]:  # a least-privilege role: the superuser's next run tunes it
            return [], 0
        for name in differ:
            cur.execute(f"alter system set {name} = %s", (SERVER_SETTINGS[name],))
        cur.execute("select pg_reload_conf()")
        cur.execute("select count(*) from pg_stat_activity "
                    "where backend_type = 'client backend' and pid <> pg_backend_pid()")  # fmt: skip
        return differ, cur.fetchone()[0]


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
