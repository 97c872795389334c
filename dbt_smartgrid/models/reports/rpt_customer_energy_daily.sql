{#- The grid report's "daily energy per customer": each customer's local day (var local_time_zone; 23, 24 or 25
    hours), measured and estimated apart. -#}

with

customer_days as (

    select * from {{ ref('fct_customer_consumption_daily_local') }}

),

final as (

    select
        customer_id,
        local_day as day,
        consumption_kwh,
        (consumption_kwh - estimated_kwh)::numeric(22, 9) as measured_kwh,
        estimated_kwh,
        meter_count::integer as meter_count,
        hours_in_day::integer as hours_in_day

    from customer_days

)

select * from final
