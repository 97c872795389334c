"""smartgrid ELT: operational PostgreSQL -> raw -> dbt hourly marts -> Great Expectations, run by Prefect."""

from orchestration.settings import quiet_environment

quiet_environment()
