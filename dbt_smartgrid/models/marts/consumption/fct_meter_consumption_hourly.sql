{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'hour_start'],
        time_key='hour_start',
        indexes=[
            {'columns': ['meter_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Energy per meter and UTC hour from the cumulative register (contract §4): the sum of the parts of the
    meter's intervals that fall in the hour (int_meter_interval_hours), with the hour's quality code and its
    customer: the one named on the closing reading of the last interval that overlaps the hour.

    The hour's valid readings are counted from those parts too: the intervals pair consecutive valid readings, so
    a valid reading in the hour closes an interval that overlaps the hour, unless it opens the hour's first part
    (the meter's first reading, or one exactly on the hour). Counted from the parts, the hour needs no look-up of
    the validated readings.

    Incremental runs rebuild the meter-hours that received a rebuilt interval part, reading all parts of
    those hours through the (meter_id, hour_start) index, meter-hour by meter-hour (`offset 0` keeps the look-up
    apart: a join was planned as a hash join over every interval part, a pass that grows with history). A reading that names a new customer changes only the
    hours its intervals touch. -#}

with

interval_hours as not materialized (

    select * from {{ ref('int_meter_interval_hours') }}

),

meter_hours_to_rebuild as (

    select distinct
        meter_id,
        hour_start

    from interval_hours

    {% if is_incremental() %}
    where loaded_through > {{ incremental_watermark() }}
    {% endif %}

),

aggregated_to_meter_hour as (

    select
        meter_hours_to_rebuild.meter_id,
        meter_hours_to_rebuild.hour_start,

        (array_agg(interval_hours.customer_id order by interval_hours.ended_at desc))[1] as customer_id,
        sum(interval_hours.energy_kwh)::numeric(20, 9) as consumption_kwh,
        coalesce(sum(interval_hours.energy_kwh) filter (
            where interval_hours.interval_kind <> 'measured'
        ), 0)::numeric(20, 9) as estimated_kwh,
        bool_or(interval_hours.interval_kind = 'long_gap' or interval_hours.is_negative) as is_questionable,
        bool_or(interval_hours.interval_kind <> 'measured') as has_interpolated,

        -- valid readings in the hour: the closing readings of its parts, and the opening one of its first part
        count(*) filter (
            where interval_hours.ended_at < meter_hours_to_rebuild.hour_start + interval '1 hour'
        ) + (min(interval_hours.started_at) >= meter_hours_to_rebuild.hour_start)::int as reading_count

    from meter_hours_to_rebuild

    cross join lateral (
        select parts.*
        from interval_hours as parts
        where parts.meter_id = meter_hours_to_rebuild.meter_id
            and parts.hour_start = meter_hours_to_rebuild.hour_start
        offset 0  -- noqa: AM09
    ) as interval_hours

    group by 1, 2

),

final as (

    select
        meter_id,
        customer_id,
        hour_start,
        consumption_kwh,
        estimated_kwh,
        reading_count,
        case
            when is_questionable then 10
            when has_interpolated then 9
            else 0
        end as quality_code,
        (select max(interval_hours.loaded_through) from interval_hours) as loaded_through

    from aggregated_to_meter_hour

)

select * from final
