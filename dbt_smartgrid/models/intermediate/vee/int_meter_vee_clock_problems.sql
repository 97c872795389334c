{#- VEE rules on the meter's clock: future_timestamp (a reading more than future_tolerance_minutes ahead of
    its arrival, whatever else is wrong with it) and off_grid (a valid reading off the quarter-hour grid). -#}

{%- set slot_seconds = var('meter_interval_minutes') * 60 %}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

valid_readings as (

    select * from meter_readings

    where is_valid

),

future_timestamps as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        'future_timestamp' as reason_code,
        count(*) as exception_count,
        round(max(extract(epoch from reading_at - arrived_at)) / 60, 2) as observed_value,
        {{ var('future_tolerance_minutes') }} as threshold,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from meter_readings

    where reading_at > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'
        and isfinite(reading_at)  -- an infinite clock is an implausible_timestamp; it has no day or minutes

    group by 1, 2

),

off_grid_readings as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        'off_grid' as reason_code,
        count(*) as exception_count,
        count(*) as observed_value,
        0 as threshold,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from valid_readings

    where extract(epoch from reading_at) % {{ slot_seconds }} <> 0

    group by 1, 2

),

clock_problems as (

    select * from future_timestamps

    union all

    select * from off_grid_readings

),

final as (

    select
        {{ vee_exception_columns() }}

    from clock_problems

)

select * from final
