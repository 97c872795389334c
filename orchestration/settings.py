"""Every setting, and the only module that reads the environment.

Warehouse: POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD (the original
system's names). Source: the same five with a SOURCE_ prefix, defaulting to the warehouse server with
database `smartgrid_source`. With POSTGRES_HOST unset, an embedded PostgreSQL keeps its data under
$SMARTGRID_HOME (default: `.smartgrid/` in the repository). Every variable: docs/settings.md.

No password has a default: when none is set, none is sent (trust, peer or ~/.pgpass authentication).
Nothing here writes os.environ except `library_environment`, for the libraries that read nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestration.db.targets import DbTarget

REPO_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_WAREHOUSE_DB = "smartgrid_warehouse"
DEFAULT_SOURCE_DB = "smartgrid_source"
DEFAULT_USER = "postgres"

# Telemetry off and UTC sessions, unless the user chose otherwise (see library_environment).
QUIET_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "PGTZ": "UTC",
}

__all__ = ["ConfigurationError", "DbTarget", "Settings", "load_settings"]


class ConfigurationError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _env(name: str, default=None, **constraints):
    return Field(default, validation_alias=AliasChoices(name.lower(), name), **constraints)


class Settings(BaseSettings):
    """The pipeline's settings. Field names are the variables' names in lower case."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_ignore_empty=True, populate_by_name=True)

    smartgrid_home: Path = _env("SMARTGRID_HOME", REPO_ROOT / ".smartgrid")
    postgres_host: str | None = _env("POSTGRES_HOST")
    postgres_port: int = _env("POSTGRES_PORT", 5432, ge=1)
    postgres_db: str = _env("POSTGRES_DB", DEFAULT_WAREHOUSE_DB)
    postgres_user: str = _env("POSTGRES_USER", DEFAULT_USER)
    postgres_password: SecretStr | None = _env("POSTGRES_PASSWORD")
    source_postgres_host: str | None = _env("SOURCE_POSTGRES_HOST")
    source_postgres_port: int | None = _env("SOURCE_POSTGRES_PORT", ge=1)
    source_postgres_db: str = _env("SOURCE_POSTGRES_DB", DEFAULT_SOURCE_DB)
    source_postgres_user: str | None = _env("SOURCE_POSTGRES_USER")
    source_postgres_password: SecretStr | None = _env("SOURCE_POSTGRES_PASSWORD")
    postgres_password_block: str | None = _env("POSTGRES_PASSWORD_BLOCK")  # a Prefect Secret block's name
    source_postgres_password_block: str | None = _env("SOURCE_POSTGRES_PASSWORD_BLOCK")
    retention_days: int = _env("SMARTGRID_RETENTION_DAYS", 90, ge=1)
    # hours before a window's end that every load compares with the source hour by hour (data contract §2)
    reconcile_hours: int = _env("SMARTGRID_RECONCILE_HOURS", 3, ge=1)
    # the daily run: the last hours it compares, and in how many daily runs it compares every older retained day
    reconcile_recent_hours: int = _env("SMARTGRID_RECONCILE_RECENT_HOURS", 48, ge=1)
    reconcile_sweep_runs: int = _env("SMARTGRID_RECONCILE_SWEEP_RUNS", 7, ge=1)
    # least privilege (db/roles.py): the role the load and retention run as, and passwords `db init-roles` sets
    loader_user: str | None = _env("SMARTGRID_LOADER_USER")
    loader_password: SecretStr | None = _env("SMARTGRID_LOADER_PASSWORD")
    transformer_password: SecretStr | None = _env("SMARTGRID_TRANSFORMER_PASSWORD")
    analyst_password: SecretStr | None = _env("SMARTGRID_ANALYST_PASSWORD")
    source_reader_password: SecretStr | None = _env("SMARTGRID_SOURCE_READER_PASSWORD")
    # a hung run or load fails and releases the run lock (flows/watchdog.py)
    run_timeout_seconds: int = _env("SMARTGRID_RUN_TIMEOUT_SECONDS", 3300, ge=1)
    load_timeout_seconds: int = _env("SMARTGRID_LOAD_TIMEOUT_SECONDS", 1800, ge=1)
    # one Prefect task per dbt node (prefect-dbt): ~0.2 s a node, so off by default (one task for the build)
    dbt_node_tasks: bool = _env("SMARTGRID_DBT_NODE_TASKS", False)
    # runs outside a deployment (CLI, backfill) hold the warehouse slot (warehouse_slot.py); off only for
    # Prefect APIs that never expire a lease, such as prefect_test_harness's ephemeral server (tests/conftest.py)
    warehouse_slot: bool = _env("SMARTGRID_WAREHOUSE_SLOT", True)
    prefect_port: int = _env("SMARTGRID_PREFECT_PORT", 4200, ge=1)
    prefect_api_url: str | None = _env("PREFECT_API_URL")  # a Prefect server of your own; unset: the local one
    alert_webhook_url: SecretStr | None = _env("SMARTGRID_ALERT_WEBHOOK_URL")  # often carries a token
    # where the grid report's HTML is written (a shared folder), and the URL that folder is served at, if any
    report_dir: Path | None = _env("SMARTGRID_REPORT_DIR")
    report_url: str | None = _env("SMARTGRID_REPORT_URL")
    # the period of the "no completed hourly run" automation (orchestration/automations.yaml)
    alert_no_completed_run_seconds: int = _env("SMARTGRID_ALERT_NO_COMPLETED_RUN_SECONDS", 7200, ge=10)
    # `smartgrid deploy` for workers on other machines: their runs clone this repository and branch
    git_repository: str | None = _env("SMARTGRID_GIT_REPOSITORY")
    git_branch: str = _env("SMARTGRID_GIT_BRANCH", "main")
    repo_root: Path = REPO_ROOT

    @model_validator(mode="after")
    def _databases_differ(self) -> Settings:
        source, warehouse = self.source, self.warehouse
        if (source.host, source.port, source.dbname) == (warehouse.host, warehouse.port, warehouse.dbname):
            raise ValueError("the source and warehouse databases must differ: set SOURCE_POSTGRES_DB or POSTGRES_DB")
        return self

    @property
    def warehouse(self) -> DbTarget:
        """As configured; host None means the embedded server (local/postgres.py resolves it)."""
        password = self.postgres_password.get_secret_value() if self.postgres_password else None
        return DbTarget(self.postgres_host, self.postgres_port, self.postgres_db, self.postgres_user, password)

    @property
    def source(self) -> DbTarget:
        """Defaults to the warehouse's server (its port, user and password) with database smartgrid_source."""
        warehouse = self.warehouse
        host = self.source_postgres_host or warehouse.host
        same_server = host == warehouse.host
        password = self.source_postgres_password.get_secret_value() if self.source_postgres_password else None
        return DbTarget(
            host,
            self.source_postgres_port or (warehouse.port if same_server else 5432),
            self.source_postgres_db,
            self.source_postgres_user or (warehouse.user if same_server else DEFAULT_USER),
            password or (warehouse.password if same_server else None),
        )

    @property
    def home(self) -> Path:
        return self.smartgrid_home.expanduser().resolve()

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
        return self.dbt_project_dir  # profiles.yml beside dbt_project.yml: plain `dbt` finds it

    @property
    def gx_root(self) -> Path:
        """GX's project_root_dir: the folder that holds `gx/`."""
        return self.repo_root


class _SettingsFromMapping(Settings):
    """Settings from a given mapping only (tests, defaults): the process environment is not consulted."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **other_sources):
        return (init_settings,)


@dataclass(frozen=True)
class _Problem:
    variable: str
    kind: str
    value: object = field(default=None)
    limit: object = field(default=None)

    def message(self) -> str:
        if self.kind in ("int_parsing", "int_from_float"):
            return f"{self.variable} must be a whole number, got {self.value!r}"
        if self.kind == "greater_than_equal":
            return f"{self.variable} must be at least {self.limit}, got {self.value}"
        return f"{self.variable}: {self.kind} ({self.value!r})"


def load_settings(env: Mapping[str, str] | None = None, *, defaults: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment) over `defaults`; raise ConfigurationError."""
    values = {**(defaults or {}), **{k: v for k, v in (env or {}).items() if v != ""}}
    try:
        if env is None:  # the environment, then `defaults` for what it leaves unset
            return Settings(**{k.lower(): v for k, v in (defaults or {}).items() if not os.environ.get(k)})
        return _SettingsFromMapping(**{k.lower(): v for k, v in values.items()})
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "value_error":
            raise ConfigurationError(str(error["ctx"]["error"])) from None
        variable = str(error["loc"][0]).upper() if error["loc"] else "settings"
        limit = (error.get("ctx") or {}).get("ge")
        raise ConfigurationError(_Problem(variable, error["type"], error.get("input"), limit).message()) from None


def subprocess_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus `extra`, for a child process (dbt, sqlfluff, Prefect server or worker; the
    loaders' COPY readers take it less the variables named for a secret, steps/copy_rows.py)."""
    return {**os.environ, **_quiet_defaults(), **(extra or {})}


def _quiet_defaults() -> dict[str, str]:
    """QUIET_ENVIRONMENT less what the user set."""
    return {key: value for key, value in QUIET_ENVIRONMENT.items() if key not in os.environ}


@contextmanager
def library_environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set variables in os.environ for the duration, then restore them: the one place that writes os.environ.

    Why: libraries running in this process read some settings from os.environ only: dbt's `env_var()` in
    dbt_smartgrid/profiles.yml (dbtRunner has no env parameter), the telemetry switches of dbt and Prefect's SDK,
    libpq's PGTZ, and Prefect's API address as seen from threads that dbt starts (local/prefect_server.py).
    """
    wanted = {**_quiet_defaults(), **(extra or {})}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
