{#- Where the energy invariants (dbt_smartgrid/tests) start looking: rows whose loaded_through is at or after it.
    var check_scope chooses:
      latest_load (default): the rows of the latest load, as every data test of the hourly build;
      since_last_daily_pass: everything built after the last daily pass recorded in audit.daily_check_passes
        (orchestration/steps/daily_checks.py; the daily run sets it, so its cost follows a day's changes);
      all: every row (`smartgrid check --full`).
    Read when the test compiles and written as a literal, so PostgreSQL plans the scan by the loaded_through index. -#}
{% macro checks_scope_start() -%}
    {%- set scope = var('check_scope', 'latest_load') -%}
    {%- if scope == 'latest_load' -%}
        raw.latest_load_started()
    {%- elif scope == 'since_last_daily_pass' -%}
        {%- set passes = adapter.get_relation(database=target.database, schema='audit',
                                              identifier='daily_check_passes') if execute else none -%}
        {%- if passes is none -%}
            '-infinity'::timestamptz
        {%- else -%}
            {%- set query -%}
                select coalesce(max(checked_through) + interval '1 microsecond', '-infinity')::text from {{ passes }}
            {%- endset -%}
            '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
        {%- endif -%}
    {%- elif scope == 'all' -%}
        '-infinity'::timestamptz
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var check_scope must be latest_load, since_last_daily_pass or all, not " ~ scope) }}
    {%- endif -%}
{%- endmacro %}
