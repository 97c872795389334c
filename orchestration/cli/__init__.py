"""`smartgrid`: the command line (app.py). Importing this package stays cheap: typer and every heavy library
(Prefect, dbt, GX) load only when a command runs, so `smartgrid --help` and argument errors answer at once."""


def main(argv: list[str] | None = None) -> int:
    from orchestration.cli.app import run
    from orchestration.process_exit import skip_final_collection

    skip_final_collection()  # a command that ran the flow, dbt or GX would spend seconds collecting at exit

    return run(argv)
