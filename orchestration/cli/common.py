"""What every command shares: messages on stderr, usage errors, settings, logging, the window options."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Annotated

import typer

from orchestration.window import WindowError, to_utc_naive


class UsageError(Exception):
    """Bad arguments: printed as one line, exit code 2."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is when a record is emitted, not as it was when logging was set up (a command
    run in-process, e.g. by a test, must not leave the root logger writing to a stream closed since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[_StderrHandler()],
        force=True,
    )
    logging.getLogger("orchestration").setLevel(logging.DEBUG if verbose else logging.INFO)


def _verbose(value: bool) -> bool:
    if value:
        configure_logging(True)
    return value


Verbose = Annotated[
    bool, typer.Option("-v", "--verbose", help="Log debug detail (and show tracebacks).", callback=_verbose)
]
Start = Annotated[str | None, typer.Option("--start", help="Hour-aligned ISO time, UTC (e.g. 2026-11-25T10:00).")]
End = Annotated[str | None, typer.Option("--end", help="Hour-aligned ISO time, UTC, exclusive.")]
NoValidation = Annotated[bool, typer.Option("--no-validation", help="Skip the Great Expectations checkpoint.")]


def settings():
    from orchestration.settings import load_settings

    return load_settings()


def utc_time(value: str, name: str) -> datetime:
    try:
        return to_utc_naive(value, name)
    except WindowError as exc:
        raise UsageError(str(exc)) from None


def window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    from orchestration.window import resolve_window

    try:
        return resolve_window(start, end)
    except WindowError as exc:
        raise UsageError(str(exc)) from None
