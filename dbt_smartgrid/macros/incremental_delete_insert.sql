{#- The project's delete+insert (every incremental model uses it): dbt's own, with three additions.

    1. `replaced_rows_where` (model config, optional): a condition on the batch's rows (`__target__` stands for
       the model's table); only the keys of rows that meet it are deleted first. The validated models set it
       to "loaded before this run", so the delete looks up the few earlier rows they re-rank, not every new row.
    2. The batch (a temporary table) is analyzed first, so the planner knows how small it is and deletes through
       the target's key index instead of scanning a large table.
    3. Mart backup: when SMARTGRID_MART_BACKUP=1 (the flow sets it), an incremental run on a model in the
       `marts` schema first copies the rows it is about to delete into audit.mart_backup. If a later model or
       test of the same `dbt build` fails, the flow puts those rows back and removes the new ones
       (orchestration/mart_backup.py), so a failed run leaves the marts as they were before it. -#}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set key_columns = [unique_key] if unique_key is string else unique_key -%}
    {%- set keys = key_columns | join(', ') -%}
    {%- set replaced_rows_where = (config.get('replaced_rows_where') or '') | replace('__target__', target | string) -%}
    {%- set replaced_keys -%}
        select distinct {{ keys }}
        from {{ source }}
        {%- if replaced_rows_where %}
        where {{ replaced_rows_where }}
        {%- endif %}
    {%- endset -%}

    analyze {{ source }};

    {%- if unique_key and target.schema == 'marts' and env_var('SMARTGRID_MART_BACKUP', '') == '1' %}

        insert into audit.mart_backup (mart, row_data)
        select '{{ target.identifier }}', to_jsonb(replaced)
        from {{ target }} as replaced
        where ({{ keys }}) in ({{ replaced_keys }});
    {%- endif %}

    {%- if unique_key %}

        delete from {{ target }} as DBT_INTERNAL_DEST
        where ({{ keys }}) in ({{ replaced_keys }})
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor -%};
    {%- endif %}

    insert into {{ target }} ({{ get_quoted_csv(dest_columns | map(attribute='name')) }})
    select {{ get_quoted_csv(dest_columns | map(attribute='name')) }}
    from {{ source }}
{%- endmacro %}
