"""No secret leaks: against a PostgreSQL of its own that really checks passwords (scram-sha-256), a whole flow
run with a distinctive password, and failed connections with a wrong one, leave the password in no log,
artifact, error message, file under the repository (dbt target/ and logs/, GX data docs) or `.smartgrid/`; and
a password kept in a Prefect Secret block reaches no run log, run parameter or file either."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from orchestration.db.connection import ensure_database
from orchestration.db.connection_check import DatabaseUnreachable
from orchestration.local.prefect_server import pid_alive
from orchestration.local.simulator import SimulationConfig, simulate
from orchestration.settings import REPO_ROOT, DbTarget
from tests.helpers import THREE_DAYS_START

# exclusive: it reads every file of the repository and of .smartgrid/, which other tests write and remove
pytestmark = [pytest.mark.slow, pytest.mark.exclusive]
# distinctive, with characters a URL must escape; joined at run time so that this file (and its .pyc) does not
# hold them literally
PASSWORD = "-".join(["Leak", "Canary", "7Qz!x9@p"])
WRONG = "-".join(["Wrong", "Canary", "4Kd#y2"])
START = datetime(2026, 3, 9, 6)
SKIP_DIRS = {".venv", ".git", "pg"}  # the installed packages, git objects, and PostgreSQL's own data files


@pytest.fixture(scope="module")
def password_server():
    """A pgserver in a short temp dir (Unix socket paths are limited) whose pg_hba requires passwords. It stops
    when the module's tests are done, before its directory is removed: stopped only at the process's exit (after
    the directory was gone), `pg_ctl stop` failed and the server outlived the test run."""
    import pgserver

    from orchestration.local.postgres import _pgserver_system_user, _silence_pgserver

    _silence_pgserver()
    with (
        tempfile.TemporaryDirectory(prefix="sgpw", dir="/tmp") as home,
        pgserver.get_server(Path(home) / "pg", cleanup_mode="stop") as server,
    ):
        server.psql(f"alter role postgres password '{PASSWORD}';")
        hba = Path(home) / "pg" / "pg_hba.conf"
        hba.write_text(hba.read_text().replace(" trust", " scram-sha-256"))
        from pgserver._commands import pg_ctl

        pg_ctl(["reload"], pgdata=Path(home) / "pg", user=_pgserver_system_user())
        postmaster = server.get_postmaster_info()
        yield str(postmaster.socket_dir)
    assert not pid_alive(postmaster.pid), "the password server outlived its tests"


def _files_containing(secret: str, *roots: Path) -> list[Path]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if any(part in SKIP_DIRS for part in path.relative_to(root).parts) or not path.is_file():
                continue
            if path.stat().st_size < 50_000_000 and secret.encode() in path.read_bytes():
                found.append(path)
    return found


def test_a_password_leaks_nowhere(settings, password_server, prefect_api, monkeypatch):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName, LogFilter, LogFilterFlowRunId

    from orchestration.flows.smartgrid_etl_flow import load_raw_task, smartgrid_etl_flow

    warehouse = DbTarget(password_server, 5432, "smartgrid_test_warehouse", "postgres", PASSWORD)
    source = DbTarget(password_server, 5432, "smartgrid_test_source", "postgres", PASSWORD)
    for target in (warehouse, source):
        ensure_database(target)
    simulate(source, START, START + timedelta(hours=2), SimulationConfig(3, 1, 3, 0.02), now=START + timedelta(days=1))
    for name, value in {
        "POSTGRES_HOST": password_server,
        "POSTGRES_PORT": "5432",
        "POSTGRES_PASSWORD": PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)

    ok = smartgrid_etl_flow.with_options(flow_run_name="leak-check-ok")(
        start_time=START, end_time=START + timedelta(hours=2), return_state=True
    )
    assert ok.is_completed(), ok.message
    # the wrong password: a failed connection's error, a failed run's message
    with pytest.raises(DatabaseUnreachable) as error:
        load_raw_task.fn(
            warehouse, DbTarget(password_server, 5432, source.dbname, "postgres", WRONG), START, START, 24, False
        )
    assert "check SOURCE_POSTGRES_USER, SOURCE_POSTGRES_PASSWORD" in str(error.value)
    monkeypatch.setenv("SOURCE_POSTGRES_PASSWORD", WRONG)
    failed = smartgrid_etl_flow.with_options(flow_run_name="leak-check-failed")(
        start_time=START, end_time=START + timedelta(hours=2), return_state=True
    )
    assert failed.is_failed() and "SOURCE_POSTGRES_PASSWORD" in failed.message

    async def everything_prefect_kept() -> str:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["leak-check-ok", "leak-check-failed"]))
            )
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[r.id for r in runs]))
            )
            artifacts = await client.read_artifacts()
            task_runs = await client.read_task_runs()
        return "\n".join(
            [r.model_dump_json() for r in runs]
            + [log.message for log in logs]
            + [a.model_dump_json() for a in artifacts]
            + [t.model_dump_json() for t in task_runs]
        )

    kept = asyncio.run(everything_prefect_kept())
    assert "leak-check-failed" in kept and "smartgrid-etl-summary" in kept and len(kept) > 10_000
    for secret in (PASSWORD, WRONG):
        assert secret not in str(error.value) and secret not in str(failed.message)
        assert secret not in kept
        assert _files_containing(secret, REPO_ROOT, settings.home) == []
    # the URL-escaped form (GX's connection string) is nowhere either
    assert _files_containing(quote(PASSWORD, safe=""), REPO_ROOT, settings.home) == []


@pytest.mark.slow
def test_passwords_come_from_a_secret_block_and_never_reach_logs_or_disk(
    settings, three_days, prefect_api, monkeypatch
):
    from prefect import get_client
    from prefect.blocks.system import Secret
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    from orchestration.flows.smartgrid_etl_flow import smartgrid_etl_flow
    from orchestration.secrets import with_secret_blocks
    from orchestration.settings import load_settings

    secret = "s3cret-Wh-7f1c9e"  # the embedded server trusts local connections, so any password works
    Secret(value=secret).save("smartgrid-warehouse-password", overwrite=True)
    monkeypatch.setenv("POSTGRES_PASSWORD_BLOCK", "smartgrid-warehouse-password")
    resolved = with_secret_blocks(load_settings())  # the block's name is read from the environment
    assert resolved.warehouse.password == secret and resolved.source.password == secret

    state = smartgrid_etl_flow(
        start_time=THREE_DAYS_START, end_time=THREE_DAYS_START + timedelta(hours=2), return_state=True
    )
    assert state.is_completed()

    async def run_logs():
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
            )
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[runs[0].id])))
            return runs[0], [log.message for log in logs]

    import asyncio

    flow_run, messages = asyncio.run(run_logs())
    assert messages and not any(secret in m for m in messages)
    assert secret not in json.dumps(flow_run.parameters, default=str)
    for folder in (REPO_ROOT / "dbt_smartgrid", REPO_ROOT / "gx", settings.home / "prefect"):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert secret.encode() not in path.read_bytes(), path
