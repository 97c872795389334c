{#- The newest raw load an incremental model has already folded in: rows of its input loaded after this
    are new. `-infinity` when the model is empty, so an empty table rebuilds everything.

    It is the newest loaded_through among the model's rows, or the watermark the model recorded on its table
    (record_watermark(), below) if that is newer. A model whose rows witness every build needs no record; one
    that keeps only a few rows (fct_meter_hour_vee_adjustments: the hours VEE changes, often none for days)
    records it, or every run would rebuild from its newest row on, or from -infinity when it has none.

    Read when the model is compiled and written into its SQL as a literal: PostgreSQL then estimates "rows
    loaded after it" from the index (a few thousand), where a subquery's unknown value is estimated as a
    third of the table, which planned a hash join over all earlier rows (5 s after 14 days of history).

    The edit loop's `make compare-incremental` sets var incremental_since=latest_load: the watermark is then
    just before the latest load started, so the incremental path rebuilds what the latest load touched and
    its rows can be compared with a full build's. In a dbt unit test `this` is a fixture: a subquery. -#}
{% macro incremental_watermark(column='loaded_through') -%}
    {%- if model.resource_type == 'unit_test' -%}
        {#- `this` is a fixture (SQL text), with no table to hold a recorded watermark -#}
        {{ return("(select coalesce(max(" ~ column ~ "), '-infinity'::timestamptz) from " ~ this ~ ")") }}
    {%- endif -%}
    {%- set query -%}
        select greatest(
            coalesce(max({{ column }}), '-infinity'::timestamptz),
            {{ _recorded_watermark() }}
        )::text from {{ this }}
    {%- endset -%}
    {%- if var('incremental_since', none) == 'latest_load' -%}
        {%- set query = "select (raw.latest_load_started() - interval '1 microsecond')::text" -%}
    {%- elif var('incremental_since', none) is not none -%}
        {{ exceptions.raise_compiler_error("var incremental_since: only 'latest_load' is known, got "
            ~ var('incremental_since')) }}
    {%- endif -%}
    {%- if execute -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        ({{ query }})::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- A post-hook: keep on the model's table, as its comment, the newest loaded_through of `input` (the relation the
    model rebuilds from) that this build has folded in. The comment is written in the model's transaction, with
    its rows. After a failed build the flow puts the marts' rows back but not this record, which stays safe: the
    input's rows the failed build had stamped are put back too, and the next build stamps them anew, later. -#}
{% macro record_watermark(input, column='loaded_through') -%}
    do $record_watermark$ begin
        execute format(
            'comment on table {{ this }} is %L',
            'smartgrid watermark ' || (select max({{ column }}) from {{ input }})::text
        );
    end $record_watermark$
{%- endmacro %}

{% macro _recorded_watermark() -%}
    coalesce(substring(
        obj_description(to_regclass('{{ this.include(database=false) }}'), 'pg_class') from '^smartgrid watermark (.*)$'
    )::timestamptz, '-infinity'::timestamptz)
{%- endmacro %}
