{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['meter_id', 'ended_at'],
        indexes=[
            {'columns': ['meter_id', 'ended_at'], 'unique': True},
            {'columns': ['ended_at']},
        ],
    )
}}

{#- One row per pair of consecutive valid readings of a meter, keyed by the later reading: the building block
    of the VEE rules and estimates.

    Incremental runs: a reading loaded since the last run changes the interval that ends at it and the one
    that ends at its successor, so for each meter with new rows the intervals ending between its earliest
    new reading and the first valid reading after its latest new one are rebuilt. Valid reading times are
    never withdrawn (a later duplicate replaces a reading at the same time), so no old interval is left
    behind.

    The import CTEs are `not materialized` so that the per-meter look-ups of the neighbouring readings use
    the (meter_id, reading_at) index, and the spans are `materialized` so that those look-ups run once per
    meter, not once per reading. -#}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

valid_readings as not materialized (

    select
        meter_id,
        reading_at,
        reading_kwh

    from meter_readings

    where is_valid

),

{% if is_incremental() %}

meters_with_new_rows as (

    select
        meter_id,
        min(reading_at) as changed_from,
        max(reading_at) as changed_to

    from meter_readings

    where loaded_at > {{ incremental_watermark() }}

    group by 1

),

spans_to_rebuild as materialized (

    select
        meters_with_new_rows.meter_id,
        meters_with_new_rows.changed_from,

        coalesce(
            (
                select max(valid_readings.reading_at)
                from valid_readings
                where valid_readings.meter_id = meters_with_new_rows.meter_id
                    and valid_readings.reading_at < meters_with_new_rows.changed_from
            ),
            meters_with_new_rows.changed_from
        ) as readings_from,

        coalesce(
            (
                select min(valid_readings.reading_at)
                from valid_readings
                where valid_readings.meter_id = meters_with_new_rows.meter_id
                    and valid_readings.reading_at > meters_with_new_rows.changed_to
            ),
            meters_with_new_rows.changed_to
        ) as readings_to

    from meters_with_new_rows

),

{% endif %}

readings_in_scope as (

    select valid_readings.*

    from valid_readings

    {% if is_incremental() %}
    inner join spans_to_rebuild
        on valid_readings.meter_id = spans_to_rebuild.meter_id
        and valid_readings.reading_at
            between spans_to_rebuild.readings_from and spans_to_rebuild.readings_to
    {% endif %}

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

intervals as (

    select * from paired

    where started_at is not null

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

    from intervals

),

final as (

    select
        *,
        (select max(meter_readings.loaded_at) from meter_readings) as loaded_through

    from classified

)

select * from final
