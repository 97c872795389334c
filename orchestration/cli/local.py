"""`smartgrid serve | stop | server start | server stop`: the local Prefect server, deployments and worker."""

from __future__ import annotations

import typer

from orchestration.cli.common import Verbose, say, settings

server_app = typer.Typer(help="The local Prefect server the CLI uses.", no_args_is_help=True)


@server_app.command("start")
def server_start(verbose: Verbose = False) -> int:
    """Start the local Prefect server in the background (Prefect's own `server start --background`)."""
    from orchestration.local.prefect_server import ensure_prefect_api

    url = ensure_prefect_api(settings(), progress=say)
    say(f"Prefect API at {url}; UI at {url.removesuffix('/api')}")
    return 0


@server_app.command("stop")
def server_stop(verbose: Verbose = False) -> int:
    """Stop the local Prefect server (`prefect server stop`)."""
    from orchestration.local.prefect_server import stop_server

    say("Prefect server stopped" if stop_server(settings()) else "no Prefect server was running")
    return 0


def serve(verbose: Verbose = False) -> int:
    """Start the Prefect server, the work pool, both deployments and a worker."""
    from orchestration.db.connection import ensure_database
    from orchestration.local import deployments
    from orchestration.local.postgres import resolve_targets

    config = settings()
    for target in resolve_targets(config):
        ensure_database(target)
    ui = deployments.serve(config, progress=say)  # the same `smartgrid deploy`, then a worker
    print(f"""
the hourly deployment is live: every hour at :00 UTC the worker processes the previous hour.
  Prefect UI:        {ui}/deployments
  the prefect CLI:   export PREFECT_HOME={config.prefect_home}   (its profile points at this server)
  run it now:        .venv/bin/prefect deployment run 'smartgrid-etl-flow/hourly'
  worker log:        {config.prefect_home / "worker.log"}
  stop everything:   make stop
""")
    return 0


def stop(verbose: Verbose = False) -> int:
    """Stop the worker, the Prefect server and the embedded PostgreSQL."""
    from orchestration.local import deployments, postgres
    from orchestration.local.prefect_server import stop_server

    config = settings()
    say("worker stopped" if deployments.stop_worker(config) else "no worker was running")
    for line in deployments.release_runs(config):  # no run keeps a deployment's slot across the restart
        say(line)
    say("Prefect server stopped" if stop_server(config) else "no Prefect server was running")
    if config.embedded:
        stopped = postgres.stop_embedded(config)
        say("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0
