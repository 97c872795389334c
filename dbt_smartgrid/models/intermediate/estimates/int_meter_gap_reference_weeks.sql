{#- The reference weeks of each long gap (like-day method): the same window shifted back by whole weeks (168 h,
    so the same UTC weekday and hours) is a candidate when every UTC day it touches has 24 all-measured hours in
    fct_meter_consumption_hourly (quality_code 0); the nearest like_day_reference_days candidates within
    like_day_max_weeks_back weeks are chosen. One row per gap and chosen week. -#}

with

long_gaps as not materialized (

    select * from {{ ref('int_meter_long_gaps') }}

),

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

candidate_days as (

    select
        long_gaps.meter_id,
        long_gaps.ended_at as gap_ended_at,
        weeks_back.n as weeks_back,
        candidate_day.day::date as day

    from long_gaps

    cross join generate_series(1, {{ var('like_day_max_weeks_back') }}) as weeks_back (n)

    cross join lateral generate_series(
        ((long_gaps.started_at - weeks_back.n * interval '168 hours') at time zone 'UTC')::date::timestamp,
        ((long_gaps.ended_at - interval '1 microsecond' - weeks_back.n * interval '168 hours')
            at time zone 'UTC')::date::timestamp,
        interval '1 day'
    ) as candidate_day (day)

),

candidate_days_measured as (

    select
        candidate_days.*,
        measured.hours

    from candidate_days

    cross join lateral (
        select count(*) as hours
        from meter_hours
        where meter_hours.meter_id = candidate_days.meter_id
            and meter_hours.hour_start >= candidate_days.day::timestamp at time zone 'UTC'
            and meter_hours.hour_start < (candidate_days.day + 1)::timestamp at time zone 'UTC'
            and meter_hours.quality_code = 0
    ) as measured

),

eligible_weeks as (

    select
        meter_id,
        gap_ended_at,
        weeks_back,

        row_number() over (
            partition by meter_id, gap_ended_at
            order by weeks_back
        ) as nearness

    from candidate_days_measured

    group by 1, 2, 3

    having bool_and(hours = 24)

),

chosen_weeks as (

    select
        meter_id,
        gap_ended_at,
        weeks_back

    from eligible_weeks

    where nearness <= {{ var('like_day_reference_days') }}

)

select * from chosen_weeks
