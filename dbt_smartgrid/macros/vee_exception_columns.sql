{#- The columns, in order and with their types, that every VEE rule model (models/intermediate/vee) ends
    with, so that audit.meter_vee_exceptions can union them. -#}
{% macro vee_exception_columns() -%}
    meter_id,
        day,
        reason_code::varchar(32) as reason_code,
        exception_count::integer as exception_count,
        observed_value::numeric(20, 7) as observed_value,
        threshold::numeric(20, 7) as threshold,
        first_at,
        last_at
{%- endmacro %}
