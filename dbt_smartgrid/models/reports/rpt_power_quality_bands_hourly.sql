{#- The grid report's EN 50160 chart: voltage and frequency per sensor and hour beside the band they are held
    to. The band is computed from the same vars as fct_sensor_hourly's count_outside_band (nominal ± band %). -#}

{%- set volts, hertz = var('nominal_voltage_v'), var('nominal_frequency_hz') %}

with

sensor_hours as (

    select * from {{ ref('fct_sensor_hourly') }}

),

bands as (

    select
        'voltage' as sensor_type,
        {{ volts }} as nominal_value,
        {{ volts }} * (100 - {{ var('voltage_band_pct') }}) / 100.0 as band_low,
        {{ volts }} * (100 + {{ var('voltage_band_pct') }}) / 100.0 as band_high

    union all

    select
        'frequency' as sensor_type,
        {{ hertz }} as nominal_value,
        {{ hertz }} * (100 - {{ var('frequency_band_pct') }}) / 100.0 as band_low,
        {{ hertz }} * (100 + {{ var('frequency_band_pct') }}) / 100.0 as band_high

),

final as (

    select
        sensor_hours.sensor_id,
        sensor_hours.sensor_type,
        sensor_hours.hour_start,
        sensor_hours.p95_value,
        sensor_hours.avg_value,
        sensor_hours.min_value,
        sensor_hours.max_value,
        sensor_hours.count_outside_band,
        bands.nominal_value::numeric(10, 4) as nominal_value,
        bands.band_low::numeric(10, 4) as band_low,
        bands.band_high::numeric(10, 4) as band_high

    from sensor_hours

    inner join bands
        on sensor_hours.sensor_type = bands.sensor_type

)

select * from final
