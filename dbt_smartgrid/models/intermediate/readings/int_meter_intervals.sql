{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'ended_at'],
        time_key='ended_at',
        indexes=[
            {'columns': ['meter_id', 'ended_at'], 'unique': True},
            {'columns': ['loaded_through']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}_ended_at_idx on {{ this }} (ended_at)",
            "create index if not exists {{ this.identifier }}_long_gaps_idx on {{ this }} (meter_id, ended_at)
                where interval_kind = 'long_gap' and not is_negative",
            "create index if not exists {{ this.identifier }}_irregular_idx on {{ this }} (meter_id, started_at)
                where interval_kind <> 'measured' or is_negative",
        ],
    )
}}

{#- The one place where readings are paired: one row per pair of consecutive valid readings of a meter, keyed
    by the later (closing) reading, whose customer the interval's energy belongs to (contract §4).

    Incremental: a new reading changes the interval ending at it and the one ending at its successor, so for
    each meter with new valid rows the valid readings from the one before its earliest new reading to the one
    after its latest are paired again (index look-ups, never a scan of a meter's history). Valid reading times
    are never withdrawn (a later duplicate replaces a reading at the same time): no old interval is left behind. -#}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

{% if is_incremental() %}
meters_with_new_rows as (

    select
        meter_id,
        min(reading_at) as changed_from,
        max(reading_at) as changed_to

    from meter_readings

    where loaded_at > {{ incremental_watermark() }}
        and is_valid  -- an invalid new row changes no valid reading; a new winner of a duplicate key is valid

    group by 1

),

spans_to_pair as materialized (

    select
        meters_with_new_rows.meter_id,
        coalesce(previous_reading.reading_at, meters_with_new_rows.changed_from) as readings_from,
        coalesce(next_reading.reading_at, meters_with_new_rows.changed_to) as readings_to

    from meters_with_new_rows

    left join lateral (
        select meter_readings.reading_at
        from meter_readings
        where meter_readings.meter_id = meters_with_new_rows.meter_id
            and meter_readings.reading_at < meters_with_new_rows.changed_from
            and meter_readings.is_valid
        order by meter_readings.reading_at desc
        limit 1
    ) as previous_reading on true

    left join lateral (
        select meter_readings.reading_at
        from meter_readings
        where meter_readings.meter_id = meters_with_new_rows.meter_id
            and meter_readings.reading_at > meters_with_new_rows.changed_to
            and meter_readings.is_valid
        order by meter_readings.reading_at
        limit 1
    ) as next_reading on true

),

readings_to_pair as (

    -- each meter's span read through the (meter_id, reading_at) index; `offset 0` keeps the look-up apart, where a
    -- join was planned as a hash join over every validated reading, a pass that grows with history
    select span_readings.*

    from spans_to_pair

    cross join lateral (
        select meter_readings.*
        from meter_readings
        where meter_readings.meter_id = spans_to_pair.meter_id
            and meter_readings.reading_at between spans_to_pair.readings_from and spans_to_pair.readings_to
            and meter_readings.is_valid
        offset 0  -- noqa: AM09
    ) as span_readings

),

{% else %}
readings_to_pair as (

    select * from meter_readings
    where is_valid

),

{% endif %}
paired as (

    select
        meter_id,
        customer_id,
        lag(reading_at) over by_time as started_at,
        reading_at as ended_at,
        lag(reading_kwh) over by_time as start_kwh,
        reading_kwh as end_kwh

    from readings_to_pair

    window by_time as (partition by meter_id order by reading_at)

),

final as (

    select
        meter_id,
        customer_id,
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

        end_kwh < start_kwh as is_negative,

        (select max(meter_readings.loaded_at) from meter_readings) as loaded_through

    from paired

    where started_at is not null

)

select * from final
