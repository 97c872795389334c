{#- Post-hook of every model (dbt_project.yml), SQL only for an incremental table: the columns whose
    yml declares a `not_null` constraint get NOT NULL where the table lacks it. dbt writes constraints only into
    the DDL of a model with an enforced contract (the marts), and only when it creates the table: the
    intermediate tables have no contract, and the marts of a warehouse built before 2026-12-06 were created
    without them. A not_null data test would cost a test node in every hourly build; the constraint refuses the
    null row in the insert itself. Setting a missing NOT NULL reads the table once, under an exclusive lock
    (seconds to minutes on a season's table), at the first build after the table was created or the yml changed;
    every later build finds none missing in the catalog and changes nothing. -#}
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
