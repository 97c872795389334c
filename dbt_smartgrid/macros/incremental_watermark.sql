{#- The newest raw load an incremental model has already folded in: rows of its input loaded after this
    are new. `-infinity` when the model is empty, so an empty table rebuilds everything.

    Read when the model is compiled and written into its SQL as a literal: PostgreSQL then estimates "rows
    loaded after it" from the index (a few thousand), where a subquery's unknown value is estimated as a
    third of the table, which planned a hash join over all earlier rows (5 s after 14 days of history).

    The edit loop's `make compare-incremental` sets var incremental_since=latest_load: the watermark is then
    just before the latest load started, so the incremental path rebuilds what the latest load touched and
    its rows can be compared with a full build's. In a dbt unit test `this` is a fixture: a subquery. -#}
{% macro incremental_watermark(column='loaded_through') -%}
    {%- set query -%}
        select coalesce(max({{ column }}), '-infinity'::timestamptz)::text from {{ this }}
    {%- endset -%}
    {%- if var('incremental_since', none) == 'latest_load' -%}
        {%- set query = "select (raw.latest_load_started() - interval '1 microsecond')::text" -%}
    {%- elif var('incremental_since', none) is not none -%}
        {{ exceptions.raise_compiler_error("var incremental_since: only 'latest_load' is known, got "
            ~ var('incremental_since')) }}
    {%- endif -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        ({{ query }})::timestamptz
    {%- endif -%}
{%- endmacro %}
