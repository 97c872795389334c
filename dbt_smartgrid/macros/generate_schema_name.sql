{#- Models land in their folder's schema as named (staging, intermediate, audit, marts), so the marts are
    `marts.fct_sensor_hourly` in every environment, as the data contract names them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
