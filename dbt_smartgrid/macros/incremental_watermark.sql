{#- The newest raw load an incremental model has already folded in: rows of its input loaded after this
    are new. `-infinity` when the model is empty, so an empty table rebuilds everything.

    Read when the model is compiled and written into its SQL as a literal: PostgreSQL then estimates "rows
    loaded after it" from the index (a few thousand), where a subquery's unknown value is estimated as a
    third of the table, which planned a hash join over all earlier rows (5 s after 14 days of history). -#}
{% macro incremental_watermark(column='loaded_through') -%}
    {%- set query -%}
        select coalesce(max({{ column }}), '-infinity'::timestamptz)::text from {{ this }}
    {%- endset -%}
    {%- if execute -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}
