"""The one place that knows where the dbt project and profile live, and how to run dbt.

Every dbt command run here writes into a target path of its own (target/runs/<pid>-<random>/), seeded with a
partial-parse file, and afterwards moves its top-level artifacts into target/ with os.replace, which is
atomic: two pipeline runs, a test suite and `make dbt` in one checkout never read an artifact another dbt
process is half-way through writing. dbt parses the whole project again (3.4 s against 1.6 s on 2 cores) when
its `--vars` or its connection differ from the partial-parse file's, so each command also keeps its file under
target/partial_parse/<hash of the two>.msgpack and starts from it: the hourly run after a daily one (other
vars), or a test after another test's database, no longer parses in full. The pipeline reads its manifest
from target/smartgrid/manifest.json, which only this module writes (`make dbt` writes target/manifest.json in
place, not atomically).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path

from orchestration.results.model import DbtReport
from orchestration.settings import DbTarget, Settings, library_environment
from orchestration.steps import background_imports
from orchestration.steps.dbt_report import summarize

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARSE_SEEDS = "partial_parse"  # under target/: one partial-parse file per --vars and connection
KEEP_PARSE_SEEDS = 8
PIPELINE_MANIFEST = Path("smartgrid") / "manifest.json"  # under target/: written only by publish(), atomically
FAILED_MARK = ".failed"  # a failed command's private target path stays, for the compiled SQL its errors name
KEEP_FAILED_SECONDS = 7 * 24 * 3600


class DbtFailure(RuntimeError):
    """dbt finished with failed nodes or could not run; the message lists them."""

    def __init__(self, outcome: DbtReport, error: str | None = None):
        self.outcome = outcome
        detail = error or "; ".join(outcome.failures[:5]) or "no detail from dbt"
        super().__init__(f"dbt {outcome.command} failed: {detail}")


def dbt_environment(settings: Settings, warehouse: DbTarget) -> dict[str, str]:
    """The variables profiles/profiles.yml reads, for the resolved warehouse."""
    env = {
        "POSTGRES_HOST": warehouse.host,
        "POSTGRES_PORT": str(warehouse.port),
        "POSTGRES_DB": warehouse.dbname,
        "POSTGRES_USER": warehouse.user,
        "DBT_PROFILES_DIR": str(settings.dbt_profiles_dir),
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir),
    }
    if warehouse.password:
        env["POSTGRES_PASSWORD"] = warehouse.password
    return env


def run_dbt(
    settings: Settings, warehouse: DbTarget, *args: str, prefect: bool = True, extra_env: dict | None = None
) -> DbtReport:
    """Run one dbt command against `warehouse`.

    With `prefect`, through prefect-dbt's PrefectDbtRunner (every dbt node shows up as a Prefect task;
    needs a Prefect API); otherwise with dbt's own dbtRunner. Raises DbtFailure when anything failed.
    """
    with library_environment({**dbt_environment(settings, warehouse), **(extra_env or {})}):
        return _invoke(settings, args, prefect, parse_key(args, warehouse))


def parse_project(settings: Settings) -> None:
    """`dbt parse`: (re)writes target/manifest.json from the project files; never connects to a database."""
    warehouse = settings.warehouse
    if warehouse.host is None:  # the embedded server: parse needs a host in the profile, not a server
        warehouse = replace(warehouse, host="localhost")
    run_dbt(settings, warehouse, "parse", "--quiet", prefect=False)


def shared_target(settings: Settings) -> Path:
    return settings.dbt_project_dir / "target"


def private_target(settings: Settings, parse_key: str = "") -> Path:
    """A fresh target path for one dbt command, seeded with the partial-parse file of the same `parse_key`
    (parse_key()), else the shared one (a copy caught half written is harmless: dbt then parses in full)."""
    runs = shared_target(settings) / "runs"
    _remove_orphans(runs)
    path = runs / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    seeds = [_parse_seed(settings, parse_key)] if parse_key else []
    for seed in [*seeds, shared_target(settings) / PARTIAL_PARSE_FILE]:
        if seed.exists():
            with contextlib.suppress(OSError):  # replaced or removed meanwhile: dbt parses in full
                shutil.copyfile(seed, path / PARTIAL_PARSE_FILE)
                break
    return path


def parse_key(args: tuple[str, ...], warehouse: DbTarget) -> str:
    """What dbt's partial parsing compares besides the files: the command's --vars and the connection (what
    the profile reads, dbt_environment())."""
    vars_ = args[args.index("--vars") + 1] if "--vars" in args[:-1] else ""
    connection = [str(value) for value in (warehouse.host, warehouse.port, warehouse.dbname, warehouse.user)]
    return hashlib.sha256("\0".join([vars_, *connection]).encode()).hexdigest()[:16]


def _keep_parse_seed(settings: Settings, private: Path, key: str) -> None:
    """Keep the command's partial-parse file for the next command with the same key (atomically); keep the 8
    most recently used keys."""
    produced = private / PARTIAL_PARSE_FILE
    if not key or not produced.exists():
        return
    kept = _parse_seed(settings, key)
    kept.parent.mkdir(exist_ok=True)
    staged = kept.with_name(f".{key}-{uuid.uuid4().hex[:8]}")
    shutil.copyfile(produced, staged)
    os.replace(staged, kept)
    for old in sorted(kept.parent.glob("*.msgpack"), key=_mtime, reverse=True)[KEEP_PARSE_SEEDS:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _parse_seed(settings: Settings, key: str) -> Path:
    return shared_target(settings) / PARSE_SEEDS / f"{key}.msgpack"


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another process meanwhile
        return 0.0


def _remove_orphans(runs: Path) -> None:
    """Private target paths left by killed processes (their pid is gone), and failed commands' after 7 days."""
    for path in runs.glob("*-*") if runs.exists() else []:
        if (path / FAILED_MARK).exists():
            with contextlib.suppress(OSError):
                if time.time() - (path / FAILED_MARK).stat().st_mtime > KEEP_FAILED_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            continue
        try:
            os.kill(int(path.name.split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def publish(settings: Settings, private: Path, failed: bool = False, parse_key: str = "") -> None:
    """Move the command's top-level artifacts into target/ (and its manifest to PIPELINE_MANIFEST), each with one
    atomic os.replace, then remove its private target path; a failed command's stays (compiled/, run/) for the
    SQL its errors point to, removed after 7 days."""
    shared = shared_target(settings)
    with contextlib.suppress(OSError):  # only a seed: without it the next command parses in full
        _keep_parse_seed(settings, private, parse_key)
    if (private / "manifest.json").exists():
        (shared / PIPELINE_MANIFEST).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(private / "manifest.json", private / "pipeline-manifest.json")
        os.replace(private / "pipeline-manifest.json", shared / PIPELINE_MANIFEST)
    for artifact in private.iterdir():
        if artifact.is_file():
            os.replace(artifact, shared / artifact.name)
    if failed:
        (private / FAILED_MARK).touch()
    else:
        shutil.rmtree(private, ignore_errors=True)


def _invoke(settings: Settings, args: tuple[str, ...], prefect: bool, key: str) -> DbtReport:
    private = private_target(settings, key)
    try:
        outcome = _invoke_in(settings, args, prefect, private)
    except BaseException:
        publish(settings, private, failed=True, parse_key=key)
        raise
    publish(settings, private, parse_key=key)
    return outcome


def _invoke_in(settings: Settings, args: tuple[str, ...], prefect: bool, target_path: Path) -> DbtReport:
    command = " ".join(args)
    cli_args = [*args, "--project-dir", str(settings.dbt_project_dir), "--profiles-dir", str(settings.dbt_profiles_dir),
                "--target-path", str(target_path)]  # fmt: skip
    started = time.monotonic()
    background_imports.wait("dbt.cli.main")  # started by the flow (steps/background_imports.py)
    if prefect:
        from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

        runner = PrefectDbtRunner(
            settings=PrefectDbtSettings(
                project_dir=settings.dbt_project_dir, profiles_dir=settings.dbt_profiles_dir, target_path=target_path
            ),
            raise_on_failure=False,
        )
        try:
            result = runner.invoke(cli_args)
        except ValueError as exc:  # prefect-dbt wraps dbt-level errors (compile, connection) this way
            outcome = DbtReport(command=command, success=False, seconds=time.monotonic() - started)
            raise DbtFailure(outcome, _last_line(exc)) from exc
    else:
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(cli_args)
    outcome = summarize(command, result, time.monotonic() - started)
    if not outcome.success:
        error = None if result.exception is None else _last_line(result.exception)
        raise DbtFailure(outcome, error)
    return outcome


def _last_line(exc: BaseException) -> str:
    """The line of an error that says what went wrong (dbt puts it last); its type when it has no message."""
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__
