"""Where a database is (DbTarget, the one type for it), and where the warehouse and the source are: the
configured servers, or the embedded one (started on demand)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestration.settings import Settings


@dataclass(frozen=True)
class DbTarget:
    """Where one PostgreSQL database lives. `host` may be a Unix-socket directory; None means the embedded
    server before db/targets.py resolves it."""

    host: str | None
    port: int
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)

    def connect_kwargs(self) -> dict:
        if self.host is None:
            raise ConnectionError("the embedded PostgreSQL is not resolved yet: use db.targets.resolve_targets")
        kwargs = {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user}
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def libpq_uri(self) -> str:
        """A URI that psql accepts; never carries the password (use PGPASSWORD or ~/.pgpass)."""
        from urllib.parse import quote

        if self.host.startswith("/"):
            socket = quote(self.host, safe="")
            return f"postgresql://{quote(self.user)}@/{quote(self.dbname)}?host={socket}&port={self.port}"
        return f"postgresql://{quote(self.user)}@{self.host}:{self.port}/{quote(self.dbname)}"

    def sqlalchemy_url(self) -> str:
        """For Great Expectations; carries the password, so it is only handed to GX in memory."""
        from urllib.parse import quote

        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.host.startswith("/"):
            return (
                f"postgresql+psycopg2://{auth}@/{quote(self.dbname)}?host={quote(self.host, safe='')}&port={self.port}"
            )
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{quote(self.dbname)}"

    def describe(self) -> str:
        """Safe to log: no password."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


def resolve_targets(settings: Settings, *, start: bool = True) -> tuple[DbTarget, DbTarget]:
    """(warehouse, source). Starts the embedded server when it is configured and `start` is true."""
    from orchestration.local.postgres import EMBEDDED_PORT, embedded_socket_dir, start_embedded

    socket_dir = None
    if settings.embedded:
        socket_dir = start_embedded(settings) if start else embedded_socket_dir(settings)
        if socket_dir is None:
            raise ConnectionError("the embedded PostgreSQL is not running: start it with `smartgrid db start`")

    def resolved(target: DbTarget) -> DbTarget:
        return target if target.host is not None else replace(target, host=socket_dir, port=EMBEDDED_PORT)

    return resolved(settings.warehouse), resolved(settings.source)
