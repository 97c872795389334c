{#- The grid report's sensors x hours heat map: the worst power-quality flag of a sensor's measurements in the
    hour (out_of_band before incomplete before ok), and which measurements carry each flag. -#}

with

sensor_hours as (

    select * from {{ ref('fct_sensor_hourly') }}

),

flags_by_sensor_hour as (

    select
        sensor_id,
        hour_start,
        max(
            case pq_flag when 'out_of_band' then 2 when 'incomplete' then 1 else 0 end
        ) as pq_level,
        string_agg(sensor_type, ', ' order by sensor_type) filter (
            where pq_flag = 'out_of_band'
        ) as out_of_band_measurements,
        string_agg(sensor_type, ', ' order by sensor_type) filter (
            where pq_flag = 'incomplete'
        ) as incomplete_measurements,
        count(*) as measurements

    from sensor_hours

    group by 1, 2

),

final as (

    select
        sensor_id,
        hour_start,
        (case pq_level when 2 then 'out_of_band' when 1 then 'incomplete' else 'ok' end)::varchar(16) as pq_flag,
        pq_level::integer as pq_level,
        out_of_band_measurements,
        incomplete_measurements,
        measurements::integer as measurements

    from flags_by_sensor_hour

)

select * from final
