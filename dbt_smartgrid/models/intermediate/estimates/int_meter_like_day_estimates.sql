{#- The like-day estimate of each hour of a long gap (t0, r0) -> (t1, r1), on the wall clock (var
    local_time_zone): each UTC hour of the gap is read as its local day and local time; the chosen reference days
    of that local day (int_meter_gap_reference_days) give their consumption in the hour with the same local time.
    A reference day that lacks that local time (02:00 on the spring day) gives nothing for it (an hour that no
    reference day has gets no share); one that has it twice (02:00 on the autumn day) gives their average. The reference days' values are averaged, weighted
    by the share of the hour inside the gap, and scaled so the gap's hours add up to r1 - r0 exactly
    (differences of the rounded cumulative share, like the register split). One row per gap and UTC hour; a gap
    without reference days (or with an all-zero profile) has no rows here and keeps the linear spread. -#}

{%- set time_zone = var('local_time_zone') %}

with

gap_parts as not materialized (

    select
        *,
        (hour_start at time zone '{{ time_zone }}')::date as local_day,
        (hour_start at time zone '{{ time_zone }}')::time as local_time

    from {{ ref('int_meter_interval_hours') }}

    where
        interval_kind = 'long_gap'
        and not is_negative

),

reference_days as not materialized (

    select * from {{ ref('int_meter_gap_reference_days') }}

),

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

reference_values as (

    select
        gap_parts.meter_id,
        gap_parts.ended_at as gap_ended_at,
        gap_parts.hour_start,
        reference_days.reference_day,
        avg(reference_hours.consumption_kwh) as reference_kwh  -- the repeated autumn hour: both averaged

    from gap_parts

    inner join reference_days
        on
            gap_parts.meter_id = reference_days.meter_id
            and gap_parts.ended_at = reference_days.gap_ended_at
            and gap_parts.local_day = reference_days.gap_day

    inner join meter_hours as reference_hours
        on
            gap_parts.meter_id = reference_hours.meter_id
            and reference_days.reference_day::timestamp at time zone '{{ time_zone }}' <= reference_hours.hour_start
            and (reference_days.reference_day + 1)::timestamp at time zone '{{ time_zone }}'
            > reference_hours.hour_start
            and gap_parts.local_time = (reference_hours.hour_start at time zone '{{ time_zone }}')::time

    group by 1, 2, 3, 4

),

weighted_parts as (

    select
        gap_parts.meter_id,
        gap_parts.ended_at as gap_ended_at,
        gap_parts.hour_start,
        gap_parts.delta_kwh,

        coalesce(avg(reference_values.reference_kwh), 0)  -- a local time no reference day has: no share
        * extract(epoch from gap_parts.part_ended_at - gap_parts.part_started_at) / 3600 as weight,
        string_agg(
            to_char(reference_values.reference_day, 'YYYY-MM-DD'), ','
            order by reference_values.reference_day desc
        ) as reference_days

    from gap_parts

    left join reference_values
        on
            gap_parts.meter_id = reference_values.meter_id
            and gap_parts.ended_at = reference_values.gap_ended_at
            and gap_parts.hour_start = reference_values.hour_start

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
