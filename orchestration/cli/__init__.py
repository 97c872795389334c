"""`smartgrid`: the command line (see app.py)."""

from orchestration.cli.app import main

__all__ = ["main"]
