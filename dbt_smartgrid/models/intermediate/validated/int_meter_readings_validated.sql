{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'reading_at'],
        replaced_rows_where='loaded_at <= (select max(loaded_at) from __target__)',
        indexes=[
            {'columns': ['meter_id', 'reading_at']},
            {'columns': ['loaded_at']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}_reading_at_idx on {{ this }} (reading_at)",
            "create index if not exists {{ this.identifier }}_rejected_idx on {{ this }} (hour_start)
                where not is_valid",
        ],
    )
}}

{#- Every raw meter row, its register in kWh, and the first contract §3 rule it fails.

    Incremental runs do work in proportion to the rows loaded since the last run: they check the new rows,
    then apply the duplicate rule (macros/rank_duplicate_readings.sql), which re-ranks them with the rows
    already here that share their key (meter_id, reading_at). Only those earlier rows are replaced; raw's unique
    event_id keeps each row here once. -#}

{#- the raw row's columns this model keeps; the new rows and the earlier rows they are re-ranked with share them -#}
{%- set reading_columns = [
    'source_row_id', 'event_id', 'meter_id', 'customer_id', 'reading', 'unit', 'reading_kwh', 'reading_at',
    'hour_start', 'arrived_at', 'loaded_at'
] %}

with

new_readings as not materialized (

    select * from {{ ref('stg_ops__meter_readings') }}

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
            when reading = 'NaN'
                then 'not_a_number'
            when reading < 0
                then 'negative_reading'
            when reading_kwh is null
                then 'unknown_unit'
            when {{ implausible_timestamp('reading_at') }}
                then 'implausible_timestamp'
            when reading_at
                > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'
                then 'future_timestamp'
        end as rule_failed

    from new_readings

),

final as (

    {{ rank_duplicate_readings('new_readings_checked', ['meter_id', 'reading_at'], reading_columns) }}

)

select * from final
