"""Database passwords from Prefect Secret blocks, as an alternative to POSTGRES_PASSWORD in the environment.

Set POSTGRES_PASSWORD_BLOCK (and/or SOURCE_POSTGRES_PASSWORD_BLOCK) to the name of a Prefect `Secret`
block; the flow reads it from the Prefect API when it starts. The value stays in memory: it is never written
to disk by the pipeline and never logged (DbTarget leaves it out of its repr).
"""

from __future__ import annotations

import os
from dataclasses import replace

from orchestration.settings import ConfigurationError, Settings

WAREHOUSE_BLOCK_ENV = "POSTGRES_PASSWORD_BLOCK"
SOURCE_BLOCK_ENV = "SOURCE_POSTGRES_PASSWORD_BLOCK"


def _secret(block_name: str, variable: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return Secret.load(block_name).get()
    except ValueError as exc:  # Prefect raises ValueError for a missing block
        raise ConfigurationError(f"{variable}={block_name!r}: no such Prefect Secret block ({exc})") from None


def with_secret_blocks(settings: Settings) -> Settings:
    """Settings with passwords read from the Secret blocks named in the environment, if any."""
    warehouse_block, source_block = os.environ.get(WAREHOUSE_BLOCK_ENV), os.environ.get(SOURCE_BLOCK_ENV)
    if not warehouse_block and not source_block:
        return settings
    warehouse, source = settings.warehouse, settings.source
    if warehouse_block:
        password = _secret(warehouse_block, WAREHOUSE_BLOCK_ENV)
        if source.password is None and source.host == warehouse.host and not source_block:
            source = replace(source, password=password)  # the source shares the warehouse server
        warehouse = replace(warehouse, password=password)
    if source_block:
        source = replace(source, password=_secret(source_block, SOURCE_BLOCK_ENV))
    return replace(settings, warehouse=warehouse, source=source)
