{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'hour_start'],
        indexes=[
            {'columns': ['meter_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Energy per meter and UTC hour from the cumulative register (contract §4): the sum of the parts of the
    meter's intervals that fall in the hour (int_meter_interval_hours), with the hour's quality code.

    Incremental runs rebuild the meter-hours that received a rebuilt interval part, reading all parts of
    those hours through the (meter_id, hour_start) index, and all hours of a meter whose latest valid reading
    names a new customer (macros/meter_hours_to_rebuild.sql; customer_id comes from the latest reading). -#}

with

interval_hours as not materialized (

    select * from {{ ref('int_meter_interval_hours') }}

),

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

changed_meter_hours as (

    select distinct
        meter_id,
        hour_start

    from interval_hours

    {% if is_incremental() %}
    where loaded_through > {{ incremental_watermark() }}
    {% endif %}

),

latest_customer as materialized (

    select
        changed_meters.meter_id,
        latest_reading.customer_id

    from (select distinct meter_id from changed_meter_hours) as changed_meters

    cross join lateral (
        select meter_readings.customer_id
        from meter_readings
        where meter_readings.meter_id = changed_meters.meter_id
            and meter_readings.is_valid
        order by meter_readings.reading_at desc
        limit 1
    ) as latest_reading

),

meter_hours_to_rebuild as (

    {{ meter_hours_to_rebuild('changed_meter_hours', 'latest_customer') }}

),

aggregated_to_meter_hour as (

    select
        meter_hours_to_rebuild.meter_id,
        meter_hours_to_rebuild.hour_start,

        sum(interval_hours.energy_kwh)::numeric(20, 9) as consumption_kwh,
        coalesce(sum(interval_hours.energy_kwh) filter (
            where interval_hours.interval_kind <> 'measured'
        ), 0)::numeric(20, 9) as estimated_kwh,
        bool_or(interval_hours.interval_kind = 'long_gap' or interval_hours.is_negative) as is_questionable,
        bool_or(interval_hours.interval_kind <> 'measured') as has_interpolated

    from meter_hours_to_rebuild

    inner join interval_hours
        on meter_hours_to_rebuild.meter_id = interval_hours.meter_id
        and meter_hours_to_rebuild.hour_start = interval_hours.hour_start

    group by 1, 2

),

with_reading_count as (

    select
        aggregated_to_meter_hour.*,
        readings_in_hour.reading_count

    from aggregated_to_meter_hour

    cross join lateral (
        select count(*) as reading_count
        from meter_readings
        where meter_readings.meter_id = aggregated_to_meter_hour.meter_id
            and meter_readings.reading_at >= aggregated_to_meter_hour.hour_start
            and meter_readings.reading_at < aggregated_to_meter_hour.hour_start + interval '1 hour'
            and meter_readings.is_valid
    ) as readings_in_hour

),

final as (

    select
        with_reading_count.meter_id,
        latest_customer.customer_id,
        with_reading_count.hour_start,
        with_reading_count.consumption_kwh,
        with_reading_count.estimated_kwh,
        with_reading_count.reading_count,
        case
            when with_reading_count.is_questionable then 10
            when with_reading_count.has_interpolated then 9
            else 0
        end as quality_code,
        (select max(interval_hours.loaded_through) from interval_hours) as loaded_through

    from with_reading_count

    inner join latest_customer
        on with_reading_count.meter_id = latest_customer.meter_id

)

select * from final
