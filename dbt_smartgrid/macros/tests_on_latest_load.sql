{#- Data tests look at the rows of the latest load, not at all of history, so an hourly `dbt build` costs the
    same in a table's first week as in its fifth year, and an hour without new rows tests nothing again.

    A test whose `where` config is `latest_load:<column>` (set per folder in dbt_project.yml) sees the rows whose
    <column> (loaded_through in the incremental models, loaded_at in views over raw) is at or after the start
    of the latest load recorded in raw.load_log; every incremental model indexes that column. A full refresh
    stamps every row with the latest load, so it tests everything. Whole-table invariants (energy conservation)
    and the VEE audit views run in the `daily_checks` selector. Any other `where` works as in dbt. -#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and where.startswith('latest_load:') -%}
        {%- set column = where.split(':', 1)[1] -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ column ~ ' >= ' ~ latest_load_started() ~ ') dbt_subquery') -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- When the newest load recorded in raw.load_log started (-infinity before any load): rows whose loaded_at or
    loaded_through is at or after it came with the latest load. -#}
{% macro latest_load_started() -%}
    coalesce(
        (select min(started_at) from raw.load_log
         where load_id = (select load_id from raw.load_log order by finished_at desc limit 1)),
        '-infinity'::timestamptz
    )
{%- endmacro %}
