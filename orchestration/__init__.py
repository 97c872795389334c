"""smartgrid ELT: operational PostgreSQL -> raw -> dbt hourly marts -> Great Expectations, run by Prefect."""
