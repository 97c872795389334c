"""Where the warehouse and the source are: the configured servers, or the embedded one (started on demand)."""

from __future__ import annotations

from dataclasses import replace

from orchestration.local.postgres import EMBEDDED_PORT, embedded_socket_dir, start_embedded
from orchestration.settings import DbTarget, Settings


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source). Starts the embedded server when it is configured and `start` is true."""
    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")

    def resolved(target: DbTarget) -> DbTarget:
        return target if target.host is not None else replace(target, host=socket_dir, port=EMBEDDED_PORT)

    return resolved(settings.warehouse), resolved(settings.source)
