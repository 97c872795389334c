{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'ended_at'],
        indexes=[
            {'columns': ['meter_id', 'ended_at'], 'unique': True},
            {'columns': ['loaded_through']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}_long_gaps_idx on {{ this }} (meter_id, ended_at)
                where interval_kind = 'long_gap' and not is_negative",
        ],
    )
}}

{#- The one place where readings are paired: one row per pair of consecutive valid readings of a meter,
    keyed by the later reading. Every hourly and VEE model builds on these intervals.

    Incremental runs pair the valid readings around the ones loaded since the last run
    (macros/valid_meter_readings_to_pair.sql) and replace the intervals that end at them. -#}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

readings_in_scope as (

    {{ valid_meter_readings_to_pair('meter_readings') }}

),

paired as (

    select
        meter_id,
        lag(reading_at) over by_time as started_at,
        reading_at as ended_at,
        lag(reading_kwh) over by_time as start_kwh,
        reading_kwh as end_kwh

    from readings_in_scope

    window by_time as (partition by meter_id order by reading_at)

),

classified as (

    select
        meter_id,
        started_at,
        ended_at,
        start_kwh,
        end_kwh,
        (end_kwh - start_kwh)::numeric(19, 7) as delta_kwh,
        (extract(epoch from ended_at - started_at) / 60)::numeric(14, 4) as duration_minutes,

        case
            when ended_at - started_at <= interval '{{ var("meter_interval_minutes") }} minutes'
                then 'measured'
            when ended_at - started_at <= interval '{{ var("max_interpolated_gap_hours") }} hours'
                then 'short_gap'
            else 'long_gap'
        end as interval_kind,

        end_kwh < start_kwh as is_negative

    from paired

    where started_at is not null

),

final as (

    select
        *,
        (select max(meter_readings.loaded_at) from meter_readings) as loaded_through

    from classified

)

select * from final
