"""Import the slow libraries in background threads while the load runs: dbt (~2 s) and Great Expectations
(~8 s) would otherwise be imported by their steps, on the run's clock.

A step that needs a library waits for its background import first: a second thread importing the same package
meanwhile can get one of its modules half-initialised (ImportError "partially initialized module"), seen with
GX when dbt had little to do.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

_started: dict[str, threading.Thread] = {}


def start(*modules: str) -> None:
    """Import `modules`, in this order, in a daemon thread; a step calls wait(modules[0]) before using them."""

    def import_all() -> None:
        with contextlib.suppress(Exception):  # the step imports them again and reports any error
            for module in modules:
                importlib.import_module(module)

    thread = threading.Thread(target=import_all, name=f"import-{modules[0]}", daemon=True)
    _started[modules[0]] = thread
    thread.start()


def wait(module: str) -> None:
    """Return once the background import started for `module` (if any) has finished."""
    thread = _started.get(module)
    if thread is not None:
        thread.join()
