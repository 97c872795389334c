"""Database passwords from Prefect Secret blocks, as an alternative to POSTGRES_PASSWORD in the environment.

Set POSTGRES_PASSWORD_BLOCK (and/or SOURCE_POSTGRES_PASSWORD_BLOCK) to the name of a Prefect `Secret`
block; the flow reads it from the Prefect API when it starts. The value stays in memory: it is never written
to disk by the pipeline and never logged (Settings keeps it as a SecretStr, DbTarget leaves it out of its repr).
"""

from __future__ import annotations

from orchestration.settings import ConfigurationError, Settings


def _secret(block_name: str, variable: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return Secret.load(block_name).get()
    except ValueError as exc:  # Prefect raises ValueError for a missing block
        raise ConfigurationError(f"{variable}={block_name!r}: no such Prefect Secret block ({exc})") from None


def with_secret_blocks(settings: Settings) -> Settings:
    """Settings with passwords read from the Secret blocks the settings name, if any."""
    from pydantic import SecretStr

    warehouse_block, source_block = settings.postgres_password_block, settings.source_postgres_password_block
    update = {}
    if warehouse_block:
        update["postgres_password"] = SecretStr(_secret(warehouse_block, "POSTGRES_PASSWORD_BLOCK"))
    if source_block:
        update["source_postgres_password"] = SecretStr(_secret(source_block, "SOURCE_POSTGRES_PASSWORD_BLOCK"))
    return settings.model_copy(update=update) if update else settings
