{#- The newest raw load an incremental model has already folded in: rows of its input loaded after this
    are new. `-infinity` when the model is empty, so an empty table rebuilds everything. -#}
{% macro incremental_watermark(column='loaded_through') -%}
    (select coalesce(max({{ column }}), '-infinity'::timestamptz) from {{ this }})
{%- endmacro %}
