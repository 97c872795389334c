{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='hour_start',
        indexes=[
            {'columns': ['sensor_id', 'sensor_type', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
        ],
    )
}}

{#- An incremental run rebuilds every hour that received a raw row since the last run, whole. -#}

with

sensor_readings as (

    select * from {{ ref('int_sensor_readings_validated') }}

),

changed_hours as (

    select distinct hour_start
    from sensor_readings
    {% if is_incremental() %}
    where loaded_at > {{ incremental_watermark() }}
    {% endif %}

),

valid_readings_in_changed_hours as (

    select sensor_readings.*

    from sensor_readings

    inner join changed_hours
        on sensor_readings.hour_start = changed_hours.hour_start

    where sensor_readings.is_valid

),

aggregated_to_sensor_hour as (

    select
        sensor_id,
        sensor_type,
        hour_start,

        count(*) as reading_count,
        round(avg(value), 6)::numeric(16, 6) as avg_value,
        min(value)::numeric(10, 4) as min_value,
        max(value)::numeric(10, 4) as max_value,
        round(stddev_samp(value), 6)::numeric(16, 6) as stddev_value

    from valid_readings_in_changed_hours

    group by 1, 2, 3

),

final as (

    select
        *,
        (select max(loaded_at) from sensor_readings) as loaded_through

    from aggregated_to_sensor_hour

)

select * from final
