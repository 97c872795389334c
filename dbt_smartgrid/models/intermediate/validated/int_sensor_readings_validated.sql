{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'sensor_id'},
        unique_key=['sensor_id', 'sensor_type', 'measured_at'],
        replaced_rows_where='loaded_at <= (select max(loaded_at) from __target__)',
        indexes=[
            {'columns': ['sensor_id', 'sensor_type', 'measured_at']},
            {'columns': ['loaded_at']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}_measured_at_idx on {{ this }} (measured_at)",
            "create index if not exists {{ this.identifier }}_rejected_idx on {{ this }} (hour_start)
                where not is_valid",
        ],
    )
}}

{#- Every raw sensor row with the first contract §3 rule it fails.

    Incremental runs do work in proportion to the rows loaded since the last run: they check the new rows,
    then apply the duplicate rule (macros/rank_duplicate_readings.sql), which re-ranks them with the rows
    already here that share their key (sensor_id, sensor_type, measured_at). Only those earlier rows are
    replaced; raw's unique event_id keeps each row here once. -#}

{#- the raw row's columns this model keeps; the new rows and the earlier rows they are re-ranked with share them -#}
{%- set reading_columns = [
    'source_row_id', 'event_id', 'sensor_id', 'sensor_type', 'value', 'measured_at', 'hour_start',
    'arrived_at', 'loaded_at'
] %}

with

new_readings as not materialized (

    select * from {{ ref('stg_ops__sensor_readings') }}

    {% if is_incremental() %}
    where loaded_at > {{ incremental_watermark('loaded_at') }}
    {% endif %}

),

new_readings_checked as (

    select
        {%- for column in reading_columns %}
        {{ column }},
        {%- endfor %}

        case
            when sensor_type not in ('voltage', 'current', 'power', 'frequency')
                then 'unknown_sensor_type'
            when value = 'NaN'
                then 'not_a_number'
            {%- for sensor_type, bounds in var('sensor_ranges').items() %}
            when sensor_type = '{{ sensor_type }}'
                and value not between {{ bounds[0] }} and {{ bounds[1] }}
                then 'out_of_range'
            {%- endfor %}
            when {{ implausible_timestamp('measured_at') }}
                then 'implausible_timestamp'
            when measured_at
                > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'
                then 'future_timestamp'
        end as rule_failed

    from new_readings

),

final as (

    {{ rank_duplicate_readings('new_readings_checked', ['sensor_id', 'sensor_type', 'measured_at'], reading_columns) }}

)

select * from final
