{#- The rows of int_meter_like_day_estimates (one per gap and hour) for the long gaps in `gap_parts` only
    (interval parts with meter_id, ended_at, interval_kind, is_negative). The look-up is a subquery per gap,
    kept apart by `offset 0`, so PostgreSQL pushes meter_id and gap_ended_at down into the estimate views
    and evaluates them for these gaps, never for all of history. -#}
{% macro like_day_estimates_of(gap_parts) -%}
    select estimate.*

    from (
        select distinct
            meter_id,
            ended_at
        from {{ gap_parts }}
        where interval_kind = 'long_gap'
            and not is_negative
    ) as gaps

    cross join lateral (
        select like_day_estimates.*
        from {{ ref('int_meter_like_day_estimates') }} as like_day_estimates
        where like_day_estimates.meter_id = gaps.meter_id
            and like_day_estimates.gap_ended_at = gaps.ended_at
        offset 0  -- noqa: AM09
    ) as estimate
{%- endmacro %}
