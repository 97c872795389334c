"""`smartgrid db start | stop | url | init-roles`: the embedded PostgreSQL (when POSTGRES_HOST is unset), roles."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.cli.common import Verbose, say, settings

db_app = typer.Typer(help="The embedded PostgreSQL (when POSTGRES_HOST is unset).", no_args_is_help=True)


@db_app.command("start")
def start(verbose: Verbose = False) -> int:
    """Start the embedded PostgreSQL (if configured) and create the warehouse and source databases."""
    from orchestration.db.connection import ensure_database
    from orchestration.local.postgres import resolve_targets

    config = settings()
    if not config.embedded:
        say(f"POSTGRES_HOST is set ({config.warehouse.host}): using that server, nothing to start")
    warehouse, source = resolve_targets(config)
    for target in (warehouse, source):
        if ensure_database(target):
            say(f"created database {target.dbname}")
    say(f"PostgreSQL is ready: warehouse {warehouse.describe()}, source {source.describe()}")
    return 0


@db_app.command("stop")
def stop(verbose: Verbose = False) -> int:
    """Stop the embedded PostgreSQL."""
    from orchestration.local import postgres

    config = settings()
    if not config.embedded:
        say("POSTGRES_HOST is set: the pipeline does not manage that server")
        return 0
    stopped = postgres.stop_embedded(config)
    say("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


@db_app.command("url")
def url(
    source: Annotated[bool, typer.Option("--source", help="The source database instead of the warehouse.")] = False,
    verbose: Verbose = False,
) -> int:
    """Print a URL psql accepts (never with the password: PGPASSWORD or ~/.pgpass supply it)."""
    from orchestration.local.postgres import resolve_targets

    warehouse, source_db = resolve_targets(settings(), start=False)
    print((source_db if source else warehouse).libpq_uri())
    return 0


@db_app.command("init-roles")
def init_roles(verbose: Verbose = False) -> int:
    """Create the least-privilege roles: loader (writes raw), transformer, analyst, source reader."""
    from orchestration.db import roles
    from orchestration.local.postgres import resolve_targets

    config = settings()
    say("roles ready: " + ", ".join(roles.init_roles(config, *resolve_targets(config))))
    return 0
