"""All runtime settings in one place, read from environment variables.

Warehouse: POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD (the original
system's names). Source: the same five with a SOURCE_ prefix, defaulting to the warehouse server with
database `smartgrid_source`. With POSTGRES_HOST unset, an embedded PostgreSQL keeps its data under
$SMARTGRID_HOME (default: `.smartgrid/` in the repository).

No password has a default: when none is set, none is sent (trust, peer or ~/.pgpass authentication).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_WAREHOUSE_DB = "smartgrid_warehouse"
DEFAULT_SOURCE_DB = "smartgrid_source"
DEFAULT_USER = "postgres"

# Telemetry off and UTC sessions everywhere; set before dbt, Prefect or libpq read them.
QUIET_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PGTZ": "UTC",
}


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class DbTarget:
    """Where one PostgreSQL database lives. `host` may be a Unix-socket directory."""

    host: str
    port: int
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)

    def connect_kwargs(self) -> dict:
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
        """For Great Expectations; carries the password, so it only ever lives in the environment."""
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


@dataclass(frozen=True)
class ServerConfig:
    """One database's settings as configured; host None means the embedded server."""

    host: str | None
    port: int
    dbname: str
    user: str
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: ServerConfig
    source: ServerConfig
    retention_days: int = 90
    reconcile_hours: int = 3  # hours before a window's end that every load compares with the source, hour by hour
    dbt_node_tasks: bool = False  # one Prefect task per dbt node (prefect-dbt): ~0.2 s a node, so off by default
    prefect_port: int = 4200
    repo_root: Path = REPO_ROOT

    @property
    def embedded(self) -> bool:
        return self.warehouse.host is None or self.source.host is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def dbt_project_dir(self) -> Path:
        return self.repo_root / "dbt_smartgrid"

    @property
    def dbt_profiles_dir(self) -> Path:
        return self.repo_root / "profiles"

    @property
    def gx_root(self) -> Path:
        """GX's project_root_dir: the folder that holds `gx/`."""
        return self.repo_root


def _int(env: dict, name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def load_settings(env: dict | None = None) -> Settings:
    """Read settings from `env` (default: os.environ); raise ConfigurationError on bad values."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("SMARTGRID_HOME") or REPO_ROOT / ".smartgrid").expanduser().resolve()

    warehouse = ServerConfig(
        host=env.get("POSTGRES_HOST") or None,
        port=_int(env, "POSTGRES_PORT", 5432),
        dbname=env.get("POSTGRES_DB") or DEFAULT_WAREHOUSE_DB,
        user=env.get("POSTGRES_USER") or DEFAULT_USER,
        password=env.get("POSTGRES_PASSWORD") or None,
    )
    source_host = env.get("SOURCE_POSTGRES_HOST") or warehouse.host
    same_server = source_host == warehouse.host
    source = ServerConfig(
        host=source_host,
        port=_int(env, "SOURCE_POSTGRES_PORT", warehouse.port if same_server else 5432),
        dbname=env.get("SOURCE_POSTGRES_DB") or DEFAULT_SOURCE_DB,
        user=env.get("SOURCE_POSTGRES_USER") or (warehouse.user if same_server else DEFAULT_USER),
        password=env.get("SOURCE_POSTGRES_PASSWORD") or (warehouse.password if same_server else None),
    )
    if (source.host, source.port, source.dbname) == (warehouse.host, warehouse.port, warehouse.dbname):
        raise ConfigurationError(
            "the source and warehouse databases must differ: set SOURCE_POSTGRES_DB or POSTGRES_DB"
        )
    return Settings(
        home=home,
        warehouse=warehouse,
        source=source,
        retention_days=_int(env, "SMARTGRID_RETENTION_DAYS", 90),
        reconcile_hours=_int(env, "SMARTGRID_RECONCILE_HOURS", 3),
        dbt_node_tasks=(env.get("SMARTGRID_DBT_NODE_TASKS") or "").lower() in ("1", "true", "yes"),
        prefect_port=_int(env, "SMARTGRID_PREFECT_PORT", 4200),
    )


def quiet_environment() -> None:
    """Turn telemetry off and pin libpq sessions to UTC, unless the user chose otherwise."""
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
