"""The command line: one-line errors for bad input, and a URL that psql accepts."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest


def smartgrid(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--start", "2026-11-25T10:30"], "is not on a whole UTC hour"),
        (["run", "--start", "2026-11-25T12:00", "--end", "2026-11-25T10:00"], "must be before end"),
        (["run", "--start", "yesterday"], "is not an ISO 8601 time"),
        (["run", "--frobnicate"], "No such option: --frobnicate"),
        (["simulate", "--start", "2026-11-25T00:00"], "Missing option '--end'"),
        (["simulate", "--start", "2026-11-25T02:00", "--end", "2026-11-25T01:00"], "must be before --end"),
        (
            ["simulate", "--start", "2026-11-25T00:00", "--end", "2026-11-25T01:00", "--defect-rate", "0.9"],
            "--defect-rate must be between 0 and 0.2",
        ),
        (["launch"], "No such command 'launch'"),
        (["db", "url", "--frobnicate"], "No such option: --frobnicate (see `smartgrid db url --help`)"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, message):
    started = time.monotonic()
    done = smartgrid(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert time.monotonic() - started < 60  # no heavy import on the error path (a loose bound, not a benchmark)


def test_bad_configuration_is_named(monkeypatch):
    import os

    env = {**os.environ, "POSTGRES_PORT": "fivefourthreetwo"}
    done = smartgrid("db", "url", env=env)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "smartgrid: configuration error: POSTGRES_PORT must be a whole number, got 'fivefourthreetwo'"
    )


def test_db_url_is_accepted_by_psql(targets):
    import os

    done = smartgrid("db", "url", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("postgresql://") and "smartgrid_test_warehouse" in url
    psql = Path(__import__("pgserver").__file__).parent / "pginstall" / "bin" / "psql"
    answer = subprocess.run([str(psql), url, "-Atc", "select current_database()"], capture_output=True, text=True)
    assert answer.stdout.strip() == "smartgrid_test_warehouse", answer.stderr
    source = smartgrid("db", "url", "--source", env=dict(os.environ)).stdout.strip()
    assert "smartgrid_test_source" in source


def test_help_describes_every_option_and_shows_defaults():
    done = smartgrid("backfill", "--help")
    assert done.returncode == 0
    assert "[default: 24h]" in done.stdout and "[required]" in done.stdout
    for option in ("--start", "--end", "--chunk", "--no-validation", "--restart", "--verbose"):
        line = next(line for line in done.stdout.splitlines() if option in line)
        described = re.search(rf"{option}\s+(?:-v\s+)?<\w+>\s+(\w.*?)\s*│", line)
        assert described and len(described.group(1)) > 5, line


def test_version_and_verbose_after_the_subcommand():
    from importlib.metadata import version

    assert smartgrid("--version").stdout.strip() == f"smartgrid {version('smartgrid-elt')}"
    # -v is accepted after the subcommand too, and shows the traceback of a failure
    done = smartgrid("run", "--start", "2026-11-25T10:00", "-v", env={**__import__("os").environ, "POSTGRES_PORT": "0"})
    assert done.returncode == 2 and "POSTGRES_PORT must be at least 1" in done.stderr


def test_the_prefect_profile_is_written_in_a_fresh_clone_whose_server_is_already_up(tmp_path):
    """A fresh clone found another clone's server healthy on the same port and failed: its PREFECT_HOME did
    not exist yet (FileNotFoundError .smartgrid/prefect/profiles.toml)."""
    from orchestration.local.prefect_server import write_profile
    from orchestration.settings import load_settings

    settings = load_settings({"SMARTGRID_HOME": str(tmp_path / "fresh")})
    profile = write_profile(settings, "http://127.0.0.1:4200/api")
    assert profile.read_text().endswith('PREFECT_API_URL = "http://127.0.0.1:4200/api"\n')


def _command_paths() -> dict[str, object]:
    """Every runnable command of the CLI, from the CLI itself: "db init-roles" -> its click command."""
    import typer

    from orchestration.cli.app import app

    paths, todo = {}, [("", typer.main.get_command(app))]
    while todo:
        prefix, group = todo.pop()
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                todo.append((f"{prefix}{name} ", command))
            else:
                paths[f"{prefix}{name}"] = command
    return paths


def test_docs_cli_names_every_command_and_no_other():
    block = (Path(__file__).parents[1] / "docs" / "cli.md").read_text().split("```")[1]
    commands, documented = _command_paths(), set()
    for line in block.splitlines():
        words = [w for w in line.split("#")[0].split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        if words[:1] == ["smartgrid"] and len(words) > 1:
            documented.add(" ".join(words[1:3]) if " ".join(words[1:3]) in commands else words[1])
    assert len(commands) > 15 and {"report", "db init-roles", "dbt", "gx docs"} <= set(commands)
    assert documented == set(commands)


def test_help_texts_name_no_source_path():
    """`--help` speaks of what a command does, not of where its code lives (no `x.py`, no `orchestration/`)."""
    from typer.testing import CliRunner

    from orchestration.cli.app import app

    runner, source_path = CliRunner(), re.compile(r"\w+\.py\b|orchestration/|orchestration\.\w")
    pages = {path: runner.invoke(app, [*path.split(), "--help"], terminal_width=200) for path in _command_paths()}
    pages[""] = runner.invoke(app, ["--help"], terminal_width=200)
    assert all(page.exit_code == 0 and "Usage:" in page.output for page in pages.values())
    named = {path: source_path.findall(page.output) for path, page in pages.items()}
    assert {path: found for path, found in named.items() if found} == {}
