{#- True when a reading's time cannot be real (contract §3, implausible_timestamp): not finite (-infinity,
    infinity) or before var earliest_plausible_timestamp (default 2000-01-01 UTC), e.g. a device clock reset
    to 1970-01-01 or a BC date. Such a reading is rejected, never spread over decades of hours. -#}
{% macro implausible_timestamp(column) -%}
    (not isfinite({{ column }})
        or {{ column }} < timestamptz '{{ var("earliest_plausible_timestamp") }} 00:00:00+00')
{%- endmacro %}
