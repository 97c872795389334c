"""Least privilege: the loader, transformer, analyst and source roles (`smartgrid db init-roles`).

| role | may |
|---|---|
| loader (`smartgrid_loader`) | write `raw` (it owns the schema) |
| transformer (`smartgrid_transformer`) | read `raw`; own `staging`, `intermediate`, `marts`, `audit`, `reports` |
| analyst (`smartgrid_analyst`) | read `marts`, `audit.rejected_readings` and the grid report's views (`reports`) |
| source reader (`smartgrid_source_reader`) | `select` on the source's tables (contract §1; the network's when there) |

To run the pipeline with them: POSTGRES_USER=smartgrid_transformer (dbt, the checks, the run lock),
SMARTGRID_LOADER_USER=smartgrid_loader (the load and the retention cleanup; SMARTGRID_LOADER_PASSWORD for its
password) and SOURCE_POSTGRES_USER=smartgrid_source_reader. Without SMARTGRID_LOADER_USER the load runs as
POSTGRES_USER, as before. Passwords for the new roles are set from SMARTGRID_<ROLE>_PASSWORD when given
(e.g. SMARTGRID_ANALYST_PASSWORD); otherwise the server's other methods (peer, trust, ~/.pgpass) apply.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files

from orchestration.db.connection import connected
from orchestration.settings import DbTarget, Settings

LOADER, TRANSFORMER, ANALYST, SOURCE_READER = (
    "smartgrid_loader",
    "smartgrid_transformer",
    "smartgrid_analyst",
    "smartgrid_source_reader",
)


def _password(settings: Settings, role: str) -> str | None:
    """SMARTGRID_<ROLE>_PASSWORD (e.g. SMARTGRID_ANALYST_PASSWORD), when set."""
    secret = getattr(settings, f"{role.removeprefix('smartgrid_')}_password")
    return secret.get_secret_value() if secret else None


def _run(settings: Settings, target: DbTarget, script: str, names: dict[str, str]) -> None:
    from psycopg2 import sql

    text = files("orchestration").joinpath(f"sql/{script}").read_text()
    params = {"database": sql.Identifier(target.dbname)}
    for key, role in names.items():
        params[key] = sql.Identifier(role)
        params[f"{key}_name"] = sql.Literal(role)
    with connected(target, application="smartgrid-init-roles") as conn, conn.cursor() as cur:
        cur.execute(sql.SQL(text).format(**params))
        for role in names.values():
            password = _password(settings, role)
            if password:
                cur.execute(sql.SQL("alter role {} password %s").format(sql.Identifier(role)), (password,))


def init_roles(settings: Settings, warehouse: DbTarget, source: DbTarget) -> list[str]:
    """Create (or update) the four roles and their grants; run as a role that may create roles.

    The source's tables must exist (the operational system creates them)."""
    _run(settings, warehouse, "roles.sql", {"loader": LOADER, "transformer": TRANSFORMER, "analyst": ANALYST})
    _run(settings, source, "source_role.sql", {"reader": SOURCE_READER})
    return [LOADER, TRANSFORMER, ANALYST, SOURCE_READER]


def as_loader(warehouse: DbTarget, settings: Settings) -> DbTarget:
    """The warehouse as the loader role when SMARTGRID_LOADER_USER is set; else unchanged."""
    if not settings.loader_user:
        return warehouse
    return replace(warehouse, user=settings.loader_user, password=_password(settings, LOADER))
