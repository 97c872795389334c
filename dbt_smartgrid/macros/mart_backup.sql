{#- delete+insert, plus a backup of the mart rows it replaces.

    When SMARTGRID_MART_BACKUP=1 (the flow sets it), every incremental run on a model in the `marts` schema
    first copies the rows it is about to delete into audit.mart_backup. If a later model or test of the same
    `dbt build` fails, the flow puts those rows back and removes the new ones (orchestration/mart_backup.py),
    so a failed run leaves the marts as they were before it, never half-updated. Otherwise this is dbt's own
    delete+insert. -#}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- if unique_key and target.schema == 'marts' and env_var('SMARTGRID_MART_BACKUP', '') == '1' -%}
        {%- set key_columns = [unique_key] if unique_key is string else unique_key -%}
        create table if not exists audit.mart_backup (
            mart text not null,
            row_data jsonb not null,
            backed_up_at timestamptz not null default now()
        );

        insert into audit.mart_backup (mart, row_data)
        select '{{ target.identifier }}', to_jsonb(replaced)
        from {{ target }} as replaced
        where ({{ key_columns | join(', ') }}) in (
            select distinct {{ key_columns | join(', ') }}
            from {{ source }}
        );
    {%- endif %}

    {{ default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
