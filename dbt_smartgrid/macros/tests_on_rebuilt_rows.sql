{#- Data tests look at the rows the latest build wrote, not at all of history, so an hourly `dbt build` costs
    the same in a table's first week as in its fifth year. A test whose `where` config is
    `rebuilt_rows:<column>` (set per folder in dbt_project.yml) sees the rows whose <column> (loaded_through,
    or loaded_at for views over raw) equals the newest value in the tested table; that column is indexed in
    every incremental model. Whole-table invariants (the energy conservation test) and the VEE audit views run
    in the `daily` selector. Any other `where` works as in dbt. -#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and where.startswith('rebuilt_rows:') -%}
        {%- set column = where.split(':', 1)[1] -%}
        {%- do return(
            '(select * from ' ~ relation ~ ' where ' ~ column ~ ' = (select max(' ~ column ~ ') from '
            ~ relation ~ ')) dbt_subquery'
        ) -%}
    {%- elif where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
