{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['meter_id', 'hour_start'],
        indexes=[
            {'columns': ['meter_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
        ],
    )
}}

{#- Energy per meter and UTC hour from the cumulative register (SPEC §4): each pair of consecutive valid
    readings is an interval whose delta is spread uniformly over [t0, t1) and split at the clock hours.

    The split is computed as differences of the interpolated register at the hour boundaries (rounded to
    9 decimals), so the parts of an interval add up to its delta exactly.

    Incremental runs: a reading loaded since the last run changes the intervals on both sides of it, so
    for each meter that received rows the hours from its previous valid reading to its next one are
    rebuilt; when a meter's latest reading names a new customer, all of its hours are. -#}

with

meter_readings as (

    select * from {{ ref('int_meter_readings_validated') }}

),

valid_readings as (

    select
        meter_id,
        customer_id,
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

current_customers_of_changed_meters as (

    select distinct on (valid_readings.meter_id)
        valid_readings.meter_id,
        valid_readings.customer_id

    from valid_readings

    inner join meters_with_new_rows
        on valid_readings.meter_id = meters_with_new_rows.meter_id

    order by valid_readings.meter_id, valid_readings.reading_at desc

),

meters_with_new_customer as (

    select distinct existing.meter_id

    from {{ this }} as existing

    inner join current_customers_of_changed_meters
        on existing.meter_id = current_customers_of_changed_meters.meter_id

    where existing.customer_id <> current_customers_of_changed_meters.customer_id

),

changed_spans as (

    select
        meters_with_new_rows.meter_id,
        case
            when meters_with_new_customer.meter_id is null
                then meters_with_new_rows.changed_from
            else '-infinity'::timestamptz
        end as changed_from,
        case
            when meters_with_new_customer.meter_id is null
                then meters_with_new_rows.changed_to
            else 'infinity'::timestamptz
        end as changed_to

    from meters_with_new_rows

    left join meters_with_new_customer
        on meters_with_new_rows.meter_id = meters_with_new_customer.meter_id

),

hours_to_rebuild as (

    select
        changed_spans.meter_id,

        date_trunc('hour', coalesce(
            (
                select max(valid_readings.reading_at)
                from valid_readings
                where valid_readings.meter_id = changed_spans.meter_id
                    and valid_readings.reading_at < changed_spans.changed_from
            ),
            changed_spans.changed_from
        ), 'UTC') as first_hour,

        date_trunc('hour', coalesce(
            (
                select min(valid_readings.reading_at)
                from valid_readings
                where valid_readings.meter_id = changed_spans.meter_id
                    and valid_readings.reading_at > changed_spans.changed_to
            ),
            changed_spans.changed_to
        ), 'UTC') as last_hour

    from changed_spans

),

{% endif %}

readings_in_scope as (

    select * from valid_readings

    {% if is_incremental() %}
    where meter_id in (select meter_id from hours_to_rebuild)
    {% endif %}

),

intervals as (

    select
        meter_id,
        lag(reading_at) over by_time as started_at,
        reading_at as ended_at,
        lag(reading_kwh) over by_time as start_kwh,
        reading_kwh as end_kwh

    from readings_in_scope

    window by_time as (partition by meter_id order by reading_at)

),

intervals_classified as (

    select
        *,
        extract(epoch from ended_at - started_at) as duration_seconds,
        end_kwh < start_kwh as is_negative,
        ended_at - started_at
            > interval '{{ var("meter_interval_minutes") }} minutes' as is_interpolated,
        ended_at - started_at
            > interval '{{ var("max_interpolated_gap_hours") }} hours' as is_long_gap

    from intervals

    where started_at is not null

),

interval_parts_by_hour as (

    {{ split_by_clock_hour('intervals_classified') }}

),

parts_in_rebuilt_hours as (

    select interval_parts_by_hour.*

    from interval_parts_by_hour

    {% if is_incremental() %}
    inner join hours_to_rebuild
        on interval_parts_by_hour.meter_id = hours_to_rebuild.meter_id
        and interval_parts_by_hour.hour_start
            between hours_to_rebuild.first_hour and hours_to_rebuild.last_hour
    {% endif %}

),

parts_with_register as (

    select
        *,

        {{ interpolated_register_kwh('part_started_at') }} as register_at_part_start_kwh,
        {{ interpolated_register_kwh('part_ended_at') }} as register_at_part_end_kwh

    from parts_in_rebuilt_hours

),

parts_with_energy as (

    select
        *,

        case
            when is_negative then 0  -- register reset or meter exchange: no energy, flagged
            else register_at_part_end_kwh - register_at_part_start_kwh
        end as energy_kwh

    from parts_with_register

),

aggregated_to_meter_hour as (

    select
        meter_id,
        hour_start,

        sum(energy_kwh)::numeric(20, 9) as consumption_kwh,
        sum(case when is_interpolated then energy_kwh else 0 end)::numeric(20, 9) as estimated_kwh,
        bool_or(is_long_gap or is_negative) as is_questionable,
        bool_or(is_interpolated) as has_interpolated

    from parts_with_energy

    group by 1, 2

),

readings_per_hour as (

    select
        meter_id,
        date_trunc('hour', reading_at, 'UTC') as hour_start,
        count(*) as reading_count

    from readings_in_scope

    group by 1, 2

),

customer_of_meter as (

    select distinct on (meter_id)
        meter_id,
        customer_id

    from readings_in_scope

    order by meter_id, reading_at desc

),

final as (

    select
        aggregated_to_meter_hour.meter_id,
        customer_of_meter.customer_id,
        aggregated_to_meter_hour.hour_start,
        aggregated_to_meter_hour.consumption_kwh,
        aggregated_to_meter_hour.estimated_kwh,
        coalesce(readings_per_hour.reading_count, 0) as reading_count,
        case
            when aggregated_to_meter_hour.is_questionable then 10
            when aggregated_to_meter_hour.has_interpolated then 9
            else 0
        end as quality_code,
        (select max(meter_readings.loaded_at) from meter_readings) as loaded_through

    from aggregated_to_meter_hour

    inner join customer_of_meter
        on aggregated_to_meter_hour.meter_id = customer_of_meter.meter_id

    left join readings_per_hour
        on aggregated_to_meter_hour.meter_id = readings_per_hour.meter_id
        and aggregated_to_meter_hour.hour_start = readings_per_hour.hour_start

)

select * from final
