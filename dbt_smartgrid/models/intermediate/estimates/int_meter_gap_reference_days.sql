{#- The reference days of each long gap (like-day method, contract §4 VEE), chosen on the utility's wall clock
    (var local_time_zone): for every local day the gap touches, the nearest earlier local days of the same day
    type (working day, Saturday, or Sunday / public holiday from the public_holidays seed) that end before the
    gap starts, lie within like_day_max_weeks_back weeks and have every hour of the local day (23, 24 or 25)
    all-measured in fct_meter_consumption_hourly (quality_code 0); at most like_day_reference_days of them.
    One row per gap, gap day and chosen reference day. -#}

{%- set time_zone = var('local_time_zone') %}

with

long_gaps as not materialized (

    select * from {{ ref('int_meter_long_gaps') }}

),

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

holidays as (

    select holiday_date from {{ ref('public_holidays') }}

),

gap_days as (

    select
        long_gaps.meter_id,
        long_gaps.ended_at as gap_ended_at,
        (long_gaps.started_at at time zone '{{ time_zone }}')::date as gap_first_day,
        calendar.day::date as gap_day

    from long_gaps

    cross join lateral generate_series(
        (long_gaps.started_at at time zone '{{ time_zone }}')::date::timestamp,
        ((long_gaps.ended_at - interval '1 microsecond') at time zone '{{ time_zone }}')::date::timestamp,
        interval '1 day'
    ) as calendar (day)  -- noqa: RF04

),

candidate_days as (

    select
        gap_days.meter_id,
        gap_days.gap_ended_at,
        gap_days.gap_day,
        (gap_days.gap_first_day - back.n) as reference_day

    from gap_days

    cross join generate_series(1, 7 * {{ var('like_day_max_weeks_back') }}) as back (n)

),

local_day_types as (

    select
        calendar.day::date as day,  -- noqa: RF04
        case
            when
                extract(isodow from calendar.day) = 7
                or calendar.day::date in (select holidays.holiday_date from holidays)
                then 'sunday_holiday'
            when extract(isodow from calendar.day) = 6 then 'saturday'
            else 'working_day'
        end as day_type

    from generate_series(
        (select min(candidate_days.reference_day) from candidate_days)::timestamp,
        (select max(candidate_days.gap_day) from candidate_days)::timestamp,
        interval '1 day'
    ) as calendar (day)  -- noqa: RF04

),

with_day_types as (

    select candidate_days.*

    from candidate_days

    inner join local_day_types as gap_type
        on candidate_days.gap_day = gap_type.day

    inner join local_day_types as reference_type
        on
            candidate_days.reference_day = reference_type.day
            and gap_type.day_type = reference_type.day_type

),

measured_reference_days as (

    select
        with_day_types.*,
        measured.hours,
        extract(epoch from (with_day_types.reference_day + 1)::timestamp at time zone '{{ time_zone }}'
            - with_day_types.reference_day::timestamp at time zone '{{ time_zone }}') / 3600 as hours_in_day

    from with_day_types

    cross join lateral (
        select count(*) as hours
        from meter_hours
        where
            meter_hours.meter_id = with_day_types.meter_id
            and meter_hours.hour_start >= with_day_types.reference_day::timestamp at time zone '{{ time_zone }}'
            and meter_hours.hour_start < (with_day_types.reference_day + 1)::timestamp at time zone '{{ time_zone }}'
            and meter_hours.quality_code = 0
    ) as measured

),

chosen_days as (

    select
        meter_id,
        gap_ended_at,
        gap_day,
        reference_day,
        nearness

    from (
        select
            *,
            row_number() over (
                partition by meter_id, gap_ended_at, gap_day
                order by reference_day desc
            ) as nearness
        from measured_reference_days
        where hours = hours_in_day
    ) as eligible

    where nearness <= {{ var('like_day_reference_days') }}

)

select * from chosen_days
