{#- Every raw row excluded from the marts, with the first contract §3 rule it fails. A view: it is always
    exactly what the intermediate models decided. -#}

with

sensor_readings as not materialized (

    select * from {{ ref('int_sensor_readings_validated') }}

),

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

rejected_sensor_readings as (

    select
        'sensor_data' as source_table,
        event_id,
        rejection_reason as reason_code,
        hour_start,
        sensor_id as device_id,
        sensor_type as measurement,
        value::text as reported_value,
        measured_at as reading_at,
        arrived_at,
        loaded_at

    from sensor_readings

    where not is_valid

),

rejected_meter_readings as (

    select
        'meter_readings' as source_table,
        event_id,
        rejection_reason as reason_code,
        hour_start,
        meter_id as device_id,
        'energy_register' as measurement,
        reading::text || ' ' || coalesce(unit, 'kWh') as reported_value,
        reading_at,
        arrived_at,
        loaded_at

    from meter_readings

    where not is_valid

),

unioned as (

    select * from rejected_sensor_readings

    union all

    select * from rejected_meter_readings

)

select * from unioned
