"""A process that ran the pipeline exits without a last garbage collection (orchestration/process_exit.py), and
loses nothing by it: its exit handlers run and its log file is complete."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# A reference cycle whose finalizer writes a mark when the collector frees it, and a log line written through a
# file handler that only logging's exit handler flushes (its buffer holds the line until then).
EXITING_PROCESS = """
import gc, logging, logging.handlers, os, sys
gc.disable()  # no collection before the exit: the only one left is the one at exit
from orchestration import process_exit

class Cycle:
    def __init__(self):
        self.me = self
    def __del__(self, write=os.write, mark=os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)):
        write(mark, b"collected")

handler = logging.handlers.MemoryHandler(100, target=logging.FileHandler(sys.argv[2]), flushOnClose=True)
logging.getLogger("run").addHandler(handler)
logging.getLogger("run").warning("the run's last log line")
{ask}
Cycle()
"""


def exit_once(tmp_path: Path, ask: str) -> tuple[str, str]:
    """Run the exiting process; return (what its cycle's finalizer wrote, its log file)."""
    mark, log = tmp_path / "mark", tmp_path / "run.log"
    script = textwrap.dedent(EXITING_PROCESS).format(ask=ask)
    done = subprocess.run([sys.executable, "-c", script, str(mark), str(log)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return (mark.read_text() if mark.exists() else ""), log.read_text()


def test_without_it_python_collects_every_cycle_at_exit(tmp_path):
    """The control: this is the collection the pipeline's processes skip (1.6 s after a flow run)."""
    assert exit_once(tmp_path, ask="") == ("collected", "the run's last log line\n")


def test_a_process_that_asks_skips_the_collection_and_loses_no_log_line(tmp_path):
    assert exit_once(tmp_path, ask="process_exit.skip_final_collection()") == ("", "the run's last log line\n")


def test_every_smartgrid_command_asks(tmp_path):
    ask = "from orchestration.cli import main; main(['--version'])"
    assert exit_once(tmp_path, ask=ask) == ("", "the run's last log line\n")
