{#- Post-hook of audit.rejected_readings: when dbt recreates the view (its SQL or config changed:
    macros/materializations/view.sql) its grants go with the old one, so the analyst role of
    `smartgrid db init-roles` gets SELECT again. Does nothing where that role does not exist. -#}
{% macro grant_select_to_analyst(role='smartgrid_analyst') -%}
    do $grant$
    begin
        if exists (select from pg_roles where rolname = '{{ role }}') then
            execute 'grant select on {{ this }} to {{ role }}';
        end if;
    end
    $grant$
{%- endmacro %}
