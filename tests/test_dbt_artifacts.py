"""dbt processes side by side in one checkout (a scheduled run beside `make dbt`, the hourly and the daily run
overlapping) never read an artifact another one is half-way through writing (steps/dbt_runner.py).

The failure this guards against was `JSONDecodeError: Expecting property name enclosed in double quotes: line 1
column 822517` in `smartgrid run`: the run read target/manifest.json while a test suite's dbt rewrote it in place.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.steps import dbt_project
from orchestration.steps.dbt_runner import PIPELINE_MANIFEST

SMARTGRID = Path(sys.executable).with_name("smartgrid")  # `make dbt` is `smartgrid dbt`
# a pipeline process: every dbt command in its own target path, its artifacts moved into target/ atomically
PIPELINE_DBT = (
    "from orchestration.settings import load_settings\n"
    "from orchestration.steps.dbt_runner import parse_project\n"
    "settings = load_settings()\n"
    "while True:\n"
    "    parse_project(settings)\n"
    "    print('published', flush=True)\n"
)


@pytest.mark.slow
@pytest.mark.exclusive  # it rewrites target/manifest.json in place, which other tests read
def test_dbt_processes_side_by_side_never_read_a_half_written_manifest(settings, warehouse, tmp_path):
    dbt_project.read_manifest(settings)  # the pipeline's manifest exists before the writers start
    in_place = settings.dbt_project_dir / "target" / "manifest.json"
    # `make dbt parse` rewrites target/manifest.json in place, again and again, full parses (slow writes) ...
    make_dbt = subprocess.Popen(
        ["bash", "-c", f"while true; do {SMARTGRID} dbt parse --no-partial-parse --quiet; done"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    # ... while another pipeline process runs dbt and publishes its artifacts
    published = tmp_path / "published.log"
    with published.open("w") as out:
        pipeline = subprocess.Popen([sys.executable, "-c", PIPELINE_DBT], stdout=out, stderr=subprocess.DEVNULL)
    reads, torn_in_place, errors = 0, 0, []
    deadline = time.monotonic() + 150
    try:
        # read until `make dbt`'s file was seen half written at least once (so the race really ran) and the
        # other pipeline process published at least twice meanwhile
        while time.monotonic() < deadline and not (torn_in_place and published.read_text().count("published") >= 2):
            try:
                json.loads(in_place.read_text())
            except (json.JSONDecodeError, FileNotFoundError):
                torn_in_place += 1
            try:
                manifest = dbt_project.read_manifest(settings)
                assert "fct_meter_consumption_hourly" in dbt_project.marts_in(manifest)
                reads += 1
            except json.JSONDecodeError as exc:
                errors.append(str(exc))
    finally:
        os.killpg(make_dbt.pid, signal.SIGKILL)
        pipeline.kill()
        make_dbt.wait()
        pipeline.wait()
    assert torn_in_place > 0, "make dbt's manifest was never seen half written: the race did not run"
    assert published.read_text().count("published") >= 2
    assert errors == [] and reads > 0, (len(errors), errors[:1])
    assert (settings.dbt_project_dir / "target" / PIPELINE_MANIFEST).exists()


def test_a_failed_commands_target_path_stays_for_its_compiled_sql_a_week(tmp_path):
    from types import SimpleNamespace

    from orchestration.steps.dbt_runner import FAILED_MARK, private_target, publish

    settings = SimpleNamespace(dbt_project_dir=tmp_path)
    succeeded, failed = private_target(settings), private_target(settings)
    for path in (succeeded, failed):
        (path / "compiled").mkdir()
        (path / "run_results.json").write_text("{}")
    publish(settings, succeeded)
    publish(settings, failed, failed=True)
    assert (tmp_path / "target" / "run_results.json").read_text() == "{}"  # moved into target/
    assert not succeeded.exists() and (failed / "compiled").is_dir()  # the SQL a failure names is still there
    private_target(settings)  # the next command leaves it ...
    assert failed.exists()
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(failed / FAILED_MARK, (week_ago, week_ago))
    private_target(settings)  # ... until it is older than a week
    assert not failed.exists()


def test_each_vars_and_connection_keep_their_own_partial_parse_file(tmp_path):
    """dbt parses the whole project again when --vars or the connection differ from its partial-parse file's: the
    hourly run after a daily one, or a test after another test's database. Each keeps a file of its own."""
    from dataclasses import replace
    from types import SimpleNamespace

    from orchestration.settings import DbTarget
    from orchestration.steps.dbt_runner import KEEP_PARSE_SEEDS, PARTIAL_PARSE_FILE, parse_key, private_target, publish

    settings = SimpleNamespace(dbt_project_dir=tmp_path)
    warehouse = DbTarget(host="/tmp/pg", port=5432, dbname="warehouse_a", user="smartgrid")
    hourly_args = ("build", "--selector", "hourly", "--vars", "{vee_day_checks: false}")
    hourly = parse_key(hourly_args, warehouse)
    daily = parse_key(("build", "--selector", "daily_run", "--vars", "{check_scope: since_last_daily_pass}"), warehouse)
    other_database = parse_key(hourly_args, replace(warehouse, dbname="warehouse_b"))
    assert len({hourly, daily, other_database}) == 3

    def command(key: str, writes: bytes | None = None) -> bytes | None:
        """One dbt command: what its target path was seeded with; then it writes its own partial-parse file."""
        path = private_target(settings, key)
        seeded = (path / PARTIAL_PARSE_FILE).read_bytes() if (path / PARTIAL_PARSE_FILE).exists() else None
        if writes is not None:
            (path / PARTIAL_PARSE_FILE).write_bytes(writes)
        publish(settings, path, parse_key=key)
        return seeded

    assert command(hourly, b"parsed with the hourly vars") is None  # the first command parses in full
    assert command(daily, b"parsed with the daily vars") == b"parsed with the hourly vars"  # only the shared file
    assert command(hourly) == b"parsed with the hourly vars"  # its own, although the daily run wrote last
    assert command(other_database) == b"parsed with the hourly vars"  # none of its own: the last one shared
    for number in range(KEEP_PARSE_SEEDS + 2):
        command(f"key{number}", b"x")
    assert len(list((tmp_path / "target" / "partial_parse").glob("*.msgpack"))) == KEEP_PARSE_SEEDS
