{#- The var earliest_plausible_timestamp (a UTC time, default 2000-01-01) as a timestamptz literal that does not
    depend on the session's time zone. A reading before it, or at ±infinity, is an implausible_timestamp
    (SPEC §3): a device clock that was reset, e.g. to 1970-01-01. -#}
{% macro earliest_plausible_timestamp() -%}
    (timestamp '{{ var("earliest_plausible_timestamp") }}' at time zone 'UTC')
{%- endmacro %}
