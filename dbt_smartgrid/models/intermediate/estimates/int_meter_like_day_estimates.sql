{#- The like-day estimate of each hour of a long gap (t0, r0) -> (t1, r1): the chosen reference weeks'
    consumption in the same hour is averaged and weighted by the share of the hour inside the gap, and the
    weights are scaled so the gap's hours add up to r1 - r0 exactly (differences of the rounded cumulative
    share, like the register split). One row per gap and UTC hour; a gap without reference weeks (or with an
    all-zero profile) has no rows here and keeps the linear spread. -#}

with

gap_parts as not materialized (

    select * from {{ ref('int_meter_interval_hours') }}

    where interval_kind = 'long_gap'
        and not is_negative

),

reference_weeks as not materialized (

    select * from {{ ref('int_meter_gap_reference_weeks') }}

),

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

weighted_parts as (

    select
        gap_parts.meter_id,
        gap_parts.ended_at as gap_ended_at,
        gap_parts.hour_start,
        gap_parts.delta_kwh,

        avg(reference_hours.consumption_kwh)
            * extract(epoch from gap_parts.part_ended_at - gap_parts.part_started_at) / 3600 as weight,
        string_agg(
            to_char(reference_hours.hour_start at time zone 'UTC', 'YYYY-MM-DD'), ','
            order by reference_weeks.weeks_back
        ) as reference_days

    from gap_parts

    inner join reference_weeks
        on gap_parts.meter_id = reference_weeks.meter_id
        and gap_parts.ended_at = reference_weeks.gap_ended_at

    inner join meter_hours as reference_hours
        on gap_parts.meter_id = reference_hours.meter_id
        and reference_hours.hour_start = gap_parts.hour_start - reference_weeks.weeks_back * interval '168 hours'

    group by 1, 2, 3, 4, gap_parts.part_started_at, gap_parts.part_ended_at

),

cumulative_weights as (

    select
        *,
        sum(weight) over (partition by meter_id, gap_ended_at order by hour_start) as weight_through_hour,
        sum(weight) over (partition by meter_id, gap_ended_at) as gap_weight

    from weighted_parts

),

like_day_estimates as (

    select
        meter_id,
        gap_ended_at,
        hour_start,
        reference_days,

        round(delta_kwh * weight_through_hour / gap_weight, 9)
            - round(delta_kwh * (weight_through_hour - weight) / gap_weight, 9) as like_day_kwh

    from cumulative_weights

    where gap_weight > 0

)

select * from like_day_estimates
