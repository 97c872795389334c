{#- Every VEE rule a meter fails, one row per meter, local day (var local_time_zone) and rule: the union of the
    rule models in models/intermediate/vee/, which all end with the same columns (macros/vee_exception_columns.sql).
    A view, like rejected_readings: always exactly what they hold. -#}

{%- set vee_rules = [
    'gaps', 'spikes', 'flat_lines', 'negative_intervals', 'conflicting_duplicates', 'clock_problems'
] %}

{% for rule in vee_rules %}
select * from {{ ref('int_meter_vee_' ~ rule) }}  -- noqa: AM04
{% if not loop.last %}union all{% endif %}
{% endfor %}
