{#- Post-hook of every mart (dbt_project.yml): the columns whose yml declares a `not_null` constraint get it on
    a table that was created without it. dbt writes a contract's constraints only into the DDL that creates the
    table, and the marts of a warehouse built before 2026-12-06 tested those columns with not_null tests (a test
    node each, on every hourly build) instead. The first run after the change sets each missing NOT NULL once
    (PostgreSQL reads the table to check it, under an exclusive lock: seconds to minutes on a season's mart);
    every later run finds none missing in the catalog and changes nothing. -#}
{% macro enforce_not_null_constraints() -%}
    {%- set columns = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for constraint in column.constraints or [] -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do columns.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if columns and model.config.materialized == 'incremental' -%}
    do $not_null$
    declare
        nullable name;
    begin
        for nullable in
            select attname from pg_attribute
            where attrelid = '{{ this }}'::regclass and attnum > 0 and not attisdropped and not attnotnull
                and attname in ({% for name in columns %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %})
        loop
            execute format('alter table {{ this }} alter column %I set not null', nullable);
        end loop;
    end
    $not_null$
    {%- endif -%}
{%- endmacro %}
