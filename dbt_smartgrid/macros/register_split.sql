{#- How a register interval's energy is split at the clock hours (contract §4). One model uses these,
    int_meter_interval_hours; the contract §4 mart and the VEE mart both read its rows, so their linear spreads are equal to the last decimal. -#}

{#- One row per interval of `intervals` (started_at, ended_at, ...) and UTC clock hour it overlaps, with the
    part of the interval inside that hour: [part_started_at, part_ended_at). -#}
{% macro split_by_clock_hour(intervals) -%}
    select
        {{ intervals }}.*,
        hours.hour_start,
        greatest({{ intervals }}.started_at, hours.hour_start) as part_started_at,
        least({{ intervals }}.ended_at, hours.hour_start + interval '1 hour') as part_ended_at

    from {{ intervals }}

    cross join lateral generate_series(
        date_trunc('hour', {{ intervals }}.started_at, 'UTC'),
        {{ intervals }}.ended_at - interval '1 microsecond',
        interval '1 hour'
    ) as hours (hour_start)
{%- endmacro %}

{#- The register interpolated linearly at `at_column` inside its interval (start_kwh at started_at, end_kwh at
    ended_at, duration_seconds), rounded to 9 decimals. Each boundary is computed the same way for the parts on
    both sides of it, so the parts of an interval add up to end_kwh - start_kwh exactly. -#}
{% macro interpolated_register_kwh(at_column) -%}
    case
        when {{ at_column }} = started_at then start_kwh
        when {{ at_column }} = ended_at then end_kwh
        else round(start_kwh + (end_kwh - start_kwh)
            * extract(epoch from {{ at_column }} - started_at) / duration_seconds, 9)
    end
{%- endmacro %}
