{{ config(materialized='view') }}

{#- Who had each meter when: one row per meter and period of consecutive register intervals whose closing
    readings name the same customer (contract §4: an interval's energy belongs to the customer on its closing
    reading). A view over int_meter_intervals: a query for one meter reads that meter's intervals by index. -#}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

with_period_starts as (

    select
        meter_id,
        customer_id,
        started_at,
        ended_at,
        coalesce(customer_id <> lag(customer_id) over (partition by meter_id order by ended_at), true)::integer
            as starts_period

    from meter_intervals

),

numbered as (

    select
        *,
        sum(starts_period) over (partition by meter_id order by ended_at) as period_number

    from with_period_starts

),

periods as (

    select
        meter_id,
        period_number,
        min(customer_id) as customer_id,
        min(started_at) as valid_from,
        max(ended_at) as last_reading_at

    from numbered

    group by 1, 2

),

final as (

    select
        meter_id,
        customer_id,
        period_number::integer as period_number,
        valid_from,
        lead(valid_from) over (partition by meter_id order by period_number) as valid_to,
        last_reading_at

    from periods

)

select * from final
