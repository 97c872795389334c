{#- The grid report's "daily energy per customer": each customer's UTC day, measured and estimated apart. -#}

with

customer_days as (

    select * from {{ ref('fct_customer_consumption_daily') }}

),

final as (

    select
        customer_id,
        day,
        consumption_kwh,
        (consumption_kwh - estimated_kwh)::numeric(22, 9) as measured_kwh,
        estimated_kwh,
        meter_count::integer as meter_count

    from customer_days

)

select * from final
