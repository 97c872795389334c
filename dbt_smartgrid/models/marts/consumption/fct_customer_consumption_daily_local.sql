{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={
            'distribution_column': 'customer_id',
            'multi_shard_delete': 'whole days: a meter-hour whose customer changed must leave the old row',
        },
        unique_key='local_day',
        indexes=[
            {'columns': ['customer_id', 'local_day'], 'unique': True},
            {'columns': ['local_day']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Energy per customer and local day (contract §4): the day on the utility's wall clock (var local_time_zone),
    as bills are cut. A local day has 23, 24 or 25 hours (the DST change days); each meter-hour counts on the
    local day its hour_start falls in, which is exact for zones whose offset from UTC is whole hours.

    An incremental run rebuilds, for all customers, every local day in which a meter-hour was rebuilt since the
    last run (a late reading may move an hour to another customer, who must lose it), reading those days'
    meter-hours through the hour_start index. -#}

{%- set time_zone = var('local_time_zone') %}

with

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

local_days_to_rebuild as (

    select
        local_day,
        local_day::timestamp at time zone '{{ time_zone }}' as day_started_at,
        (local_day + 1)::timestamp at time zone '{{ time_zone }}' as day_ended_at

    from (
        select distinct (hour_start at time zone '{{ time_zone }}')::date as local_day
        from meter_hours
        {% if is_incremental() %}
        where loaded_through > {{ incremental_watermark() }}
        {% endif %}
    ) as changed_local_days

),

aggregated_to_customer_local_day as (

    select
        meter_hours.customer_id,
        local_days_to_rebuild.local_day,

        sum(meter_hours.consumption_kwh)::numeric(22, 9) as consumption_kwh,
        sum(meter_hours.estimated_kwh)::numeric(22, 9) as estimated_kwh,
        count(distinct meter_hours.meter_id) as meter_count,
        (extract(epoch from local_days_to_rebuild.day_ended_at - local_days_to_rebuild.day_started_at)
            / 3600)::integer as hours_in_day

    from local_days_to_rebuild

    inner join meter_hours
        on
            local_days_to_rebuild.day_started_at <= meter_hours.hour_start
            and local_days_to_rebuild.day_ended_at > meter_hours.hour_start

    group by 1, 2, local_days_to_rebuild.day_started_at, local_days_to_rebuild.day_ended_at

),

final as (

    select
        *,
        (select max(meter_hours.loaded_through) from meter_hours) as loaded_through

    from aggregated_to_customer_local_day

)

select * from final
