"""Where a database is: DbTarget, the one type for it. Which server that is (a configured one, or the embedded
one when POSTGRES_HOST is unset) is decided above db/: local/postgres.py resolves the embedded server."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DbTarget:
    """Where one PostgreSQL database lives. `host` may be a Unix-socket directory; None means the embedded
    server before local/postgres.py resolves it."""

    host: str | None
    port: int
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)

    def connect_kwargs(self) -> dict:
        if self.host is None:
            raise ConnectionError("the embedded PostgreSQL is not resolved yet: use local.postgres.resolve_targets")
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

    def sqlalchemy_url(self, session: dict[str, str] | None = None) -> str:
        """For Great Expectations; carries the password, so it is only handed to GX in memory. `session` sets
        settings of the sessions it opens (`search_path`: where they look up unqualified names)."""
        from urllib.parse import quote, urlencode

        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        query = {"host": self.host, "port": self.port} if self.host.startswith("/") else {}
        if session:
            query["options"] = " ".join(f"-c{name}={value}" for name, value in session.items())
        server = "" if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"postgresql+psycopg2://{auth}@{server}/{quote(self.dbname)}" + (f"?{urlencode(query)}" if query else "")

    def describe(self) -> str:
        """Safe to log: no password."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"
