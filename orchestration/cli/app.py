"""`smartgrid`: the command line, on typer. Errors in arguments are one line and exit code 2; any other
failure is one line (`-v` shows the traceback) and exit code 1."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from orchestration.cli import checks, database, demo, deploy, local, pipeline, report, tools
from orchestration.cli.common import UsageError, Verbose, configure_logging, say

EXIT_USAGE = 2

app = typer.Typer(
    name="smartgrid",
    help="smartgrid ELT: operational PostgreSQL -> raw -> dbt hourly marts -> Great Expectations, run by Prefect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(database.db_app, name="db")
app.add_typer(local.server_app, name="server")
app.command("simulate")(demo.simulate)
app.command("run")(pipeline.run)
app.command("demo")(demo.demo)
app.command("backfill")(pipeline.backfill)
app.command("check")(checks.check)
app.command("report")(report.report)
app.command("serve")(local.serve)
app.command("stop")(local.stop)
app.command("dbt", context_settings=tools.PASS_THROUGH)(tools.dbt)
app.command("sqlfluff", context_settings=tools.PASS_THROUGH)(tools.sqlfluff)
app.add_typer(tools.docs_app, name="docs")
app.add_typer(tools.gx_app, name="gx")
app.command("deploy")(deploy.deploy)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"smartgrid {version('smartgrid-elt')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
    verbose: Verbose = False,
) -> None:
    """smartgrid ELT: operational PostgreSQL -> raw -> dbt hourly marts -> Great Expectations, run by Prefect."""


def run(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code."""
    from orchestration.settings import ConfigurationError

    argv = sys.argv[1:] if argv is None else argv
    verbose = "-v" in argv or "--verbose" in argv
    configure_logging(verbose)
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="smartgrid", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except (UsageError, ConfigurationError) as exc:
        kind = "configuration error" if isinstance(exc, ConfigurationError) else "error"
        say(f"smartgrid: {kind}: {exc}")
        return EXIT_USAGE
    except typer.Exit as exc:
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        say("smartgrid: interrupted")
        return 130
    except Exception as exc:
        if _is_usage_error(exc):  # typer's (vendored click's) UsageError: bad or missing arguments
            if message := exc.format_message():
                where = " ".join(exc.ctx.command_path.split()[1:] + [""]) if exc.ctx else ""
                say(f"smartgrid: error: {message} (see `smartgrid {where}--help`)")
            return EXIT_USAGE
        if verbose:
            raise
        first_line = (str(exc).strip().splitlines() or [""])[0]  # a clear line for the operator; -v: traceback
        say(f"smartgrid: {type(exc).__name__}: {first_line}")
        return 1


def _is_usage_error(exc: Exception) -> bool:
    return getattr(exc, "exit_code", None) == EXIT_USAGE and hasattr(exc, "format_message")
