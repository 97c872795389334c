{#- Where the grid sensors stand, for the network map: each sensor's location in its latest reading of the last
    5 minutes that raw holds. Read from raw through its "timestamp" index (staging's UTC columns are expressions
    the index cannot serve), so the cost follows the sensors, not the history. -#}

with

sensor_readings as (

    select * from {{ source('ops', 'sensor_data') }}

),

latest_minutes as (

    select
        sensor_id,
        latitude,
        longitude,
        "timestamp"

    from sensor_readings

    where
        "timestamp" >= (
            select max(latest."timestamp") - interval '5 minutes'
            from {{ source('ops', 'sensor_data') }} as latest
            where latest."timestamp" < 'infinity'
        )
        and "timestamp" < 'infinity'
        and latitude is not null

),

final as (

    select distinct on (sensor_id)
        sensor_id,
        latitude,
        longitude

    from latest_minutes

    order by sensor_id, "timestamp" desc

)

select * from final
