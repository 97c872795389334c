"""`smartgrid dbt | sqlfluff | docs | gx`: the analyst's tools, run against the configured (or embedded) warehouse."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.cli.common import Verbose, settings

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
Args = Annotated[list[str] | None, typer.Argument(help="Passed on unchanged (put `--` before an option of theirs).")]

docs_app = typer.Typer(help="The dbt docs site: lineage, models' and columns' descriptions.", no_args_is_help=True)
gx_app = typer.Typer(help="The Great Expectations project in gx/ and its data docs.", no_args_is_help=True)


def dbt(args: Args = None) -> int:
    """Any dbt command in the dbt project, against the warehouse: `smartgrid dbt build --select fct_sensor_hourly+`.

    This process becomes dbt, so stopping it stops dbt; with no arguments, dbt's own help.
    """
    from orchestration.local.dbt_cli import exec_dbt

    return exec_dbt(settings(), args or [])


def sqlfluff(args: Args = None) -> int:
    """sqlfluff over the dbt project (its .sqlfluff), with the environment dbt's templater needs.

    Default: `lint` over the models and the data tests; e.g. `smartgrid sqlfluff fix models/marts`.
    """
    from orchestration.local.lint import run_sqlfluff

    return run_sqlfluff(settings(), args or [])


@docs_app.command("generate")
def docs_generate(verbose: Verbose = False) -> int:
    """Build the docs site offline: target/index.html (for `dbt docs serve`) and target/static_index.html."""
    from orchestration.local import docs_site

    return docs_site.generate(settings())


@docs_app.command("check")
def docs_check(verbose: Verbose = False) -> int:
    """Open the lineage page in headless Chromium: both sources and the three marts drawn, nothing from a CDN."""
    from orchestration.local import docs_site

    return docs_site.check(settings())


@gx_app.command("build")
def gx_build(verbose: Verbose = False) -> int:
    """Write the data source, suites, validation definitions and checkpoint into gx/ (commit what changed)."""
    from orchestration.local.postgres import resolve_targets
    from orchestration.steps.gx_project import build_gx_project

    config = settings()
    build_gx_project(config, resolve_targets(config)[0])
    print("gx/ written; review and commit the JSON that changed")
    return 0


@gx_app.command("docs")
def gx_docs(verbose: Verbose = False) -> int:
    """Build the Great Expectations data docs over every stored checkpoint result (gx/uncommitted/data_docs)."""
    from orchestration.local.postgres import resolve_targets
    from orchestration.steps.gx_project import build_data_docs

    config = settings()
    print("Great Expectations data docs:", *build_data_docs(config, resolve_targets(config)[0]))
    return 0
