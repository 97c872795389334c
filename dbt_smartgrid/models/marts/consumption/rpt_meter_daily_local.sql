{{ config(materialized='view') }}

{#- Meter days in the utility's local time zone (var local_time_zone), for people who read days on a wall
    clock. The pipeline stays in UTC; only this report converts. A local day lasts 23, 24 or 25 hours, so it
    expects 92, 96 or 100 quarter-hour readings. Energy sums whole UTC hours of the VEE mart, which is exact
    for zones whose offset from UTC is a whole number of hours. -#}

{%- set time_zone = var('local_time_zone') %}
{%- set slot_seconds = var('meter_interval_minutes') * 60 %}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}

),

readings_by_local_day as (

    select
        meter_id,
        (reading_at at time zone '{{ time_zone }}')::date as local_date,
        count(distinct reading_at) filter (
            where extract(epoch from reading_at) % {{ slot_seconds }} = 0
        ) as found_intervals

    from meter_readings

    where is_valid

    group by 1, 2

),

hours_by_local_day as (

    select
        meter_id,
        (hour_start at time zone '{{ time_zone }}')::date as local_date,
        sum(measured_kwh) as measured_kwh,
        sum(vee_kwh) as vee_kwh,
        count(*) as hours_with_energy

    from meter_hours

    group by 1, 2

),

meter_local_days as (

    select
        coalesce(readings_by_local_day.meter_id, hours_by_local_day.meter_id) as meter_id,
        coalesce(readings_by_local_day.local_date, hours_by_local_day.local_date) as local_date,
        coalesce(readings_by_local_day.found_intervals, 0) as found_intervals,
        hours_by_local_day.measured_kwh,
        hours_by_local_day.vee_kwh,
        coalesce(hours_by_local_day.hours_with_energy, 0) as hours_with_energy

    from readings_by_local_day

    full outer join hours_by_local_day
        on readings_by_local_day.meter_id = hours_by_local_day.meter_id
        and readings_by_local_day.local_date = hours_by_local_day.local_date

),

with_day_bounds as (

    select
        *,
        local_date::timestamp at time zone '{{ time_zone }}' as day_started_at,
        (local_date + 1)::timestamp at time zone '{{ time_zone }}' as day_ended_at

    from meter_local_days

),

final as (

    select
        meter_id,
        local_date,
        '{{ time_zone }}'::text as time_zone,
        day_started_at,
        day_ended_at,
        (extract(epoch from day_ended_at - day_started_at) / 3600)::integer as day_hours,
        (extract(epoch from day_ended_at - day_started_at) / {{ slot_seconds }})::integer as expected_intervals,
        found_intervals::integer as found_intervals,
        hours_with_energy::integer as hours_with_energy,
        measured_kwh::numeric(22, 9) as measured_kwh,
        vee_kwh::numeric(22, 9) as vee_kwh

    from with_day_bounds

)

select * from final
