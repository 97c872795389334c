{#- Convert a meter register to kWh from its unit (kWh, Wh, MWh; case-insensitive; NULL means kWh).
    Any other unit gives NULL: the row is rejected as unknown_unit downstream. -#}
{% macro to_kwh(value_column, unit_column) -%}
    case lower(coalesce({{ unit_column }}, 'kWh'))
        when 'kwh' then {{ value_column }}
        when 'wh' then {{ value_column }} / 1000
        when 'mwh' then {{ value_column }} * 1000
    end
{%- endmacro %}
