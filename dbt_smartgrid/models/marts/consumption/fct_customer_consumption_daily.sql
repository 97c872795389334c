{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={
            'distribution_column': 'customer_id',
            'multi_shard_delete': 'whole days: a meter moving to another customer must leave its old row',
        },
        unique_key='day',
        indexes=[
            {'columns': ['customer_id', 'day'], 'unique': True},
            {'columns': ['day']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Energy per customer and UTC day (contract §4). An incremental run rebuilds, for all customers, every UTC
    day in which a meter-hour was rebuilt since the last run (a meter that moved to another customer leaves
    the old customer's days too), reading those days' meter-hours through the hour_start index. -#}

with

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

changed_days as (

    select distinct date_trunc('day', hour_start, 'UTC') as day_start
    from meter_hours
    {% if is_incremental() %}
    where loaded_through > {{ incremental_watermark() }}
    {% endif %}

),

aggregated_to_customer_day as (

    select
        meter_hours.customer_id,
        (changed_days.day_start at time zone 'UTC')::date as day,

        sum(meter_hours.consumption_kwh)::numeric(22, 9) as consumption_kwh,
        sum(meter_hours.estimated_kwh)::numeric(22, 9) as estimated_kwh,
        count(distinct meter_hours.meter_id) as meter_count

    from meter_hours

    inner join changed_days
        on meter_hours.hour_start >= changed_days.day_start
        -- a UTC day is 24 hours: timestamptz + interval '1 day' would add a day of the session's time zone
        and meter_hours.hour_start < ((changed_days.day_start at time zone 'UTC') + interval '1 day') at time zone 'UTC'

    group by 1, 2

),

final as (

    select
        *,
        (select max(meter_hours.loaded_through) from meter_hours) as loaded_through

    from aggregated_to_customer_day

)

select * from final
