{#- The grid report's meters x days heat map: how each hour of a meter's UTC day was obtained (its VEE quality
    code), and the hours with no energy row at all. Shares are of the day's 24 hours. -#}

with

meter_hours as (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}

),

hours_by_code as (

    select
        meter_id,
        (hour_start at time zone 'UTC')::date as day,
        count(*) filter (where vee_quality_code = 0) as hours_measured,
        count(*) filter (where vee_quality_code = 9) as hours_interpolated,
        count(*) filter (where vee_quality_code = 8) as hours_like_day,
        count(*) filter (where vee_quality_code = 10) as hours_questionable,
        24 - count(*) as hours_missing

    from meter_hours

    group by 1, 2

),

final as (

    select
        meter_id,
        day,
        hours_measured::integer as hours_measured,
        hours_interpolated::integer as hours_interpolated,
        hours_like_day::integer as hours_like_day,
        hours_questionable::integer as hours_questionable,
        hours_missing::integer as hours_missing,
        round(100.0 * hours_measured / 24, 1)::numeric(4, 1) as measured_pct,
        round(100.0 * hours_interpolated / 24, 1)::numeric(4, 1) as interpolated_pct,
        round(100.0 * hours_like_day / 24, 1)::numeric(4, 1) as like_day_pct,
        round(100.0 * hours_questionable / 24, 1)::numeric(4, 1) as questionable_pct,
        round(100.0 * hours_missing / 24, 1)::numeric(4, 1) as missing_pct

    from hours_by_code

)

select * from final
