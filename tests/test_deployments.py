"""Deployments: prefect.yaml declares the hourly and daily deployments, and a scheduled run of the hourly one,
through a real Prefect server, work pool and worker, processes the hour before its scheduled start (and shows
in the UI)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.helpers import query, rendered_page, scalar

REPO = Path(__file__).resolve().parents[1]


def test_prefect_yaml_declares_the_hourly_and_daily_deployments():
    config = yaml.safe_load((REPO / "orchestration" / "prefect.yaml").read_text())
    deployments = {d["name"]: d for d in config["deployments"]}
    hourly, daily = deployments["hourly"], deployments["daily-cleanup"]
    assert hourly["schedules"][0]["cron"] == "0 * * * *" and hourly["schedules"][0]["timezone"] == "UTC"
    assert hourly["parameters"] == {"enable_validation": True, "enable_cleanup": False}
    assert daily["parameters"]["enable_cleanup"] is True and daily["schedules"][0]["timezone"] == "UTC"
    for deployment in deployments.values():
        path, name = deployment["entrypoint"].split(":")
        assert (REPO / path).exists() and deployment["work_pool"]["name"] == "smartgrid-process"
        from orchestration.flows import smartgrid_etl_flow as module

        assert getattr(module, name).name == "smartgrid-etl-flow"  # so the deployment is smartgrid-etl-flow/hourly
        # one run at a time; a slot handed to a worker that died comes back after the grace period
        concurrency = {"limit": 1, "collision_strategy": "ENQUEUE", "grace_period_seconds": 120}
        assert deployment["concurrency_limit"] == concurrency
        assert deployment["version"] == "{{ $SMARTGRID_DEPLOY_VERSION }}"  # set by `smartgrid deploy`


def test_deploy_for_a_worker_on_another_machine_clones_the_configured_repository(tmp_path):
    from orchestration.local.deployments import deployment_file
    from orchestration.settings import load_settings

    default = load_settings(defaults={"SMARTGRID_HOME": str(tmp_path)})
    assert deployment_file(default) == REPO / "orchestration" / "prefect.yaml"  # the local clone's directory
    remote = load_settings({"SMARTGRID_HOME": str(tmp_path), "SMARTGRID_GIT_REPOSITORY": "https://git.example.com/sg.git",
                            "SMARTGRID_GIT_BRANCH": "release"})  # fmt: skip
    config = yaml.safe_load(deployment_file(remote).read_text())
    assert config["pull"] == [
        {"prefect.deployments.steps.git_clone": {"id": "clone", "repository": "https://git.example.com/sg.git",
                                                 "branch": "release"}},
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ clone.directory }}"}},
    ]  # fmt: skip
    assert [d["name"] for d in config["deployments"]] == ["hourly", "daily-cleanup"]


@pytest.mark.slow
def test_a_scheduled_deployment_run_processes_the_hour_before_its_scheduled_start(three_days, prefect_server_with_ui):
    import asyncio
    import shutil

    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    warehouse, _ = three_days
    api = prefect_server_with_ui
    env = {**os.environ, "PREFECT_API_URL": api}
    prefect = str(Path(sys.executable).with_name("prefect"))
    subprocess.run(
        [prefect, "--no-prompt", "work-pool", "create", "smartgrid-process", "--type", "process"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", "orchestration/prefect.yaml"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    scheduled = datetime(2026, 4, 7, 5, 0, tzinfo=UTC)
    with temporary_settings(updates={PREFECT_API_URL: api}):
        flow_run = run_deployment("smartgrid-etl-flow/hourly", scheduled_time=scheduled, timeout=0)
        worker = subprocess.run(
            [prefect, "worker", "start", "--pool", "smartgrid-process", "--run-once"],
            env={**env, "SMARTGRID_REPO_ROOT": str(REPO)},  # where the deployments' pull step finds the clone
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert worker.returncode == 0, worker.stdout[-2000:] + worker.stderr[-2000:]

        async def final_run():
            async with get_client() as client:
                return await client.read_flow_run(flow_run.id)

        run = asyncio.run(final_run())
    state = run.state
    assert state.is_completed(), state
    assert run.name == "hourly 2026-04-07T04:00Z"  # renamed after its window when it started (flow_run_name)
    # the run at 05:00 processed 04:00 .. 05:00: its load reconciled everything before 05:00
    assert query(warehouse, "select distinct window_end from raw.load_log") == [(datetime(2026, 4, 7, 5, 0),)]
    assert scalar(warehouse, "select max(hour_start) from marts.fct_sensor_hourly") == datetime(
        2026, 4, 7, 4, 0, tzinfo=UTC
    )

    # the UI: the deployment's page lists that run
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the UI check did not run")
    page = f"{api.removesuffix('/api')}/deployments/deployment/{flow_run.deployment_id}?tab=Runs"
    dom = rendered_page(chromium, page, wait_for=run.name)
    assert "smartgrid-etl-flow" in dom and run.name in dom, dom[-3000:]
