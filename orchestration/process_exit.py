"""A process that ran the pipeline ends without a last garbage collection of everything it still holds.

When Python shuts down it runs the cyclic garbage collector over every object left: after a flow run (Prefect,
dbt and Great Expectations imported, dbt's manifest in memory) that took 1.6 s after the `smartgrid run`
process had printed its report (on the demo warehouse, 13 s in all; measured ad hoc, figures in the message of
the commit that added this module). `gc.freeze()` in an exit handler puts those objects out of the collector's
reach. Everything else about the exit stays: every exit handler runs (logging's, which flushes and closes the
log files, and Prefect's, which send the last logs and events to its API), standard output and error are flushed,
objects that are not in a reference cycle are freed as usual, and the operating system takes back the memory
and closes the sockets. What is skipped is the finalizer of an object in a reference cycle, which Python does
not promise to run at exit anyway.
"""

from __future__ import annotations

import atexit
import gc

_registered = False


def skip_final_collection() -> None:
    """Freeze the collector's objects at exit (once per process, however often it is called)."""
    global _registered
    if not _registered:
        atexit.register(gc.freeze)
        _registered = True
