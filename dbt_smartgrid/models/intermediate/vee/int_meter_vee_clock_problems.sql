{#- VEE rules on the meter's clock: future_timestamp (a reading more than future_tolerance_minutes ahead of
    its arrival, whatever else is wrong with it) and off_grid (a valid reading off the quarter-hour grid). -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_reading_day_checks') }}

),

future_timestamps as (

    select
        meter_id,
        day,
        'future_timestamp' as reason_code,
        future_readings as exception_count,
        future_max_minutes as observed_value,
        {{ var('future_tolerance_minutes') }} as threshold,
        future_first_at as first_at,
        future_last_at as last_at

    from day_checks

    where future_readings > 0

),

off_grid_readings as (

    select
        meter_id,
        day,
        'off_grid' as reason_code,
        off_grid_readings as exception_count,
        off_grid_readings as observed_value,
        0 as threshold,
        off_grid_first_at as first_at,
        off_grid_last_at as last_at

    from day_checks

    where off_grid_readings > 0

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
