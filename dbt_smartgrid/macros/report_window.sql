{#- The grid report's window as the session names it (orchestration/report/queries.py name_window):
    smartgrid.report_start / smartgrid.report_end, or -infinity / infinity when unset (an analyst's query).
    current_setting is stable within a statement, so a filter on an indexed hour column uses the index. -#}

{% macro report_window_start() -%}
    coalesce(nullif(current_setting('smartgrid.report_start', true), ''), '-infinity')::timestamptz
{%- endmacro %}

{% macro report_window_end() -%}
    coalesce(nullif(current_setting('smartgrid.report_end', true), ''), 'infinity')::timestamptz
{%- endmacro %}
