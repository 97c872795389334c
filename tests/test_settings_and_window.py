"""Settings from the environment and the run window: pure logic, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchestration.settings import ConfigurationError, DbTarget, load_settings
from orchestration.window import WindowError, resolve_window


def test_without_postgres_host_both_databases_use_the_embedded_server():
    settings = load_settings({})
    assert settings.embedded
    assert (settings.warehouse.dbname, settings.source.dbname) == ("smartgrid_warehouse", "smartgrid_source")


def test_source_defaults_to_the_warehouse_server_with_its_own_database():
    settings = load_settings(
        {
            "POSTGRES_HOST": "db.example",
            "POSTGRES_PORT": "6543",
            "POSTGRES_USER": "etl",
            "POSTGRES_PASSWORD": "s3cret",
            "POSTGRES_DB": "wh",
        }
    )
    assert not settings.embedded
    assert (settings.source.host, settings.source.port, settings.source.user, settings.source.dbname) == (
        "db.example",
        6543,
        "etl",
        "smartgrid_source",
    )
    assert settings.source.password == "s3cret"


def test_a_separate_source_server_does_not_inherit_the_warehouse_password():
    settings = load_settings({"POSTGRES_HOST": "wh", "POSTGRES_PASSWORD": "a", "SOURCE_POSTGRES_HOST": "ops"})
    assert settings.source.password is None and settings.source.port == 5432


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POSTGRES_PORT": "abc"}, "POSTGRES_PORT must be a whole number"),
        ({"SMARTGRID_RETENTION_DAYS": "0"}, "SMARTGRID_RETENTION_DAYS must be at least 1"),
        ({"POSTGRES_DB": "same", "SOURCE_POSTGRES_DB": "same"}, "must differ"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env)


def test_passwords_never_appear_in_reprs_descriptions_or_psql_urls():
    target = DbTarget("db.example", 5432, "wh", "etl", "s3cret")
    assert "s3cret" not in repr(target) + target.describe() + target.libpq_uri()
    assert "s3cret" in target.sqlalchemy_url()  # for GX only, passed through the environment
    assert "s3cret" not in repr(load_settings({"POSTGRES_HOST": "h", "POSTGRES_PASSWORD": "s3cret"}))


def test_socket_directories_become_host_parameters():
    uri = DbTarget("/tmp/pg sock", 5432, "wh", "postgres").libpq_uri()
    assert uri == "postgresql://postgres@/wh?host=%2Ftmp%2Fpg%20sock&port=5432"
    from sqlalchemy.engine import make_url

    url = make_url(DbTarget("/tmp/pg sock", 5432, "wh", "postgres").sqlalchemy_url())
    assert (url.database, dict(url.query)) == ("wh", {"host": "/tmp/pg sock", "port": "5432"})


def test_session_settings_reach_the_sqlalchemy_url_as_options():
    from sqlalchemy.engine import make_url

    url = make_url(DbTarget("h", 5432, "wh", "etl").sqlalchemy_url({"search_path": "audit", "enable_indexscan": "off"}))
    assert url.query == {"options": "-csearch_path=audit -cenable_indexscan=off"}


def test_default_window_is_the_hour_before_the_reference():
    assert resolve_window(reference=datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)) == (
        datetime(2026, 11, 25, 9),
        datetime(2026, 11, 25, 10),
    )
    # a scheduled start in another zone is converted to UTC first
    berlin = timezone(timedelta(hours=1))
    assert resolve_window(reference=datetime(2026, 11, 25, 11, 0, tzinfo=berlin)) == (
        datetime(2026, 11, 25, 9),
        datetime(2026, 11, 25, 10),
    )


def test_one_bound_means_one_hour_and_offsets_are_converted():
    assert resolve_window(start="2026-11-25T10:00Z") == (datetime(2026, 11, 25, 10), datetime(2026, 11, 25, 11))
    assert resolve_window(end="2026-11-25T12:00+02:00") == (datetime(2026, 11, 25, 9), datetime(2026, 11, 25, 10))


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-25T10:15", None, "not on a whole UTC hour"),
        ("2026-11-25T10:00", "2026-11-25T10:00", "must be before"),
        ("2026-11-25T10:00", "2026-11-25T09:00", "must be before"),
        ("soon", None, "not an ISO 8601 time"),
    ],
)
def test_bad_windows_are_rejected(start, end, message):
    with pytest.raises(WindowError, match=message):
        resolve_window(start, end)


def test_only_the_settings_module_reads_or_writes_the_environment():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    settings_module = repo / "orchestration" / "settings.py"
    offenders = []
    for path in [*(repo / "orchestration").rglob("*.py"), *(repo / "benchmarks").rglob("*.py")]:
        if path == settings_module:
            continue
        text = path.read_text()
        found = [word for word in ("os.environ", "getenv", "putenv") if word in text]
        offenders += [f"{path.relative_to(repo)}: {word}" for word in found]
    assert offenders == []
    assert "os.environ" in settings_module.read_text()  # the check looks where the reading really is


def test_importing_the_package_changes_no_environment_variable():
    import subprocess
    import sys

    probe = (
        "import os; before = dict(os.environ); "
        "import orchestration.cli, orchestration.settings; print(before == dict(os.environ))"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "True"


def test_library_environment_sets_variables_only_for_its_duration(monkeypatch):
    import os

    from orchestration.settings import library_environment

    monkeypatch.delenv("SMARTGRID_PROBE", raising=False)
    monkeypatch.setenv("PGTZ", "Asia/Kolkata")  # the user's choice wins over the UTC default
    with library_environment({"SMARTGRID_PROBE": "1"}):
        assert os.environ["SMARTGRID_PROBE"] == "1" and os.environ["PGTZ"] == "Asia/Kolkata"
    assert "SMARTGRID_PROBE" not in os.environ and os.environ["PGTZ"] == "Asia/Kolkata"


def test_docs_name_every_variable_the_settings_read():
    from pathlib import Path

    from orchestration.settings import Settings

    docs = (Path(__file__).resolve().parents[1] / "docs" / "settings.md").read_text()
    variables = {choice for field in Settings.model_fields.values() if field.validation_alias
                 for choice in field.validation_alias.choices if choice.isupper()}  # fmt: skip
    assert len(variables) > 15
    assert [v for v in sorted(variables) if v not in docs and not v.startswith(("SOURCE_POSTGRES_", "BENCH_"))] == []
