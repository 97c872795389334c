"""The embedded PostgreSQL runs with the warehouse's server settings (orchestration/local/postgres.py,
docs/operations.md "The warehouse server's settings"): applied when the test session started it, shared_buffers
through the one restart."""

from __future__ import annotations

import pytest

from tests.helpers import scalar


def test_the_embedded_server_checkpoints_by_time_not_by_wal_volume(settings, warehouse):
    if not settings.embedded:
        pytest.skip("the pipeline changes no server it does not run (POSTGRES_HOST is set)")
    seen = {name: scalar(warehouse, f"select current_setting('{name}')")
            for name in ("shared_buffers", "max_wal_size", "checkpoint_timeout")}  # fmt: skip
    # PostgreSQL's defaults are 128MB, 1GB and 5min: the 512MB shows the restart happened
    assert seen == {"shared_buffers": "512MB", "max_wal_size": "4GB", "checkpoint_timeout": "15min"}
