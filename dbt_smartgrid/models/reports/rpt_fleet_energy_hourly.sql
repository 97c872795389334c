{#- The grid report's load charts: the fleet's energy per UTC hour after VEE, by how it was obtained, with the
    hour's weekday and hour of day on the utility's wall clock (var local_time_zone) for the load shape. -#}

{%- set time_zone = var('local_time_zone') %}

with

meter_hours as (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}

),

fleet_hours as (

    select
        hour_start,
        count(distinct meter_id) as meter_count,
        sum(measured_kwh) as measured_kwh,
        sum(interpolated_kwh) as interpolated_kwh,
        sum(coalesce(like_day_kwh, 0)) as like_day_kwh,
        sum(unestimated_gap_kwh) as unestimated_gap_kwh,
        sum(vee_kwh) as vee_kwh

    from meter_hours

    group by 1

),

final as (

    select
        hour_start,
        extract(isodow from hour_start at time zone '{{ time_zone }}')::integer as local_weekday,
        extract(hour from hour_start at time zone '{{ time_zone }}')::integer as local_hour,
        '{{ time_zone }}'::text as time_zone,
        meter_count::integer as meter_count,
        measured_kwh::numeric(22, 9) as measured_kwh,
        interpolated_kwh::numeric(22, 9) as interpolated_kwh,
        like_day_kwh::numeric(22, 9) as like_day_kwh,
        unestimated_gap_kwh::numeric(22, 9) as unestimated_gap_kwh,
        vee_kwh::numeric(22, 9) as vee_kwh

    from fleet_hours

)

select * from final
