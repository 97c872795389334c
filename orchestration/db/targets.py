"""Where the warehouse and the source are: the configured servers, or the embedded one (started on demand)."""

from __future__ import annotations

from orchestration.local.postgres import EMBEDDED_PORT, embedded_socket_dir, start_embedded
from orchestration.settings import DbTarget, ServerConfig, Settings


def _target(config: ServerConfig, socket_dir: str | None) -> DbTarget:
    if config.host is None:
        assert socket_dir is not None
        return DbTarget(socket_dir, EMBEDDED_PORT, config.dbname, config.user, config.password)
    return DbTarget(config.host, config.port, config.dbname, config.user, config.password)


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source). Starts the embedded server when it is configured and `start` is true."""
    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")
    return _target(settings.warehouse, socket_dir), _target(settings.source, socket_dir)
