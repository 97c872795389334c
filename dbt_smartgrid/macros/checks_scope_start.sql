{#- Where the energy invariants (dbt_smartgrid/tests) start looking: rows whose loaded_through is at or after it.
    var check_scope chooses:
      latest_load (default): the rows of the latest load, as every data test of the hourly build;
      since_last_daily_pass: everything built since the last daily pass recorded in raw.daily_check_passes
        (the daily run sets it, so its cost follows a day's changes, not the history);
      all: every row (`smartgrid check --full`). -#}
{% macro checks_scope_start() -%}
    {%- set scope = var('check_scope', 'latest_load') -%}
    {%- if scope == 'latest_load' -%}
        raw.latest_load_started()
    {%- elif scope == 'since_last_daily_pass' -%}
        (raw.last_daily_check_through() + interval '1 microsecond')
    {%- elif scope == 'all' -%}
        '-infinity'::timestamptz
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var check_scope must be latest_load, since_last_daily_pass or all, not " ~ scope) }}
    {%- endif -%}
{%- endmacro %}
