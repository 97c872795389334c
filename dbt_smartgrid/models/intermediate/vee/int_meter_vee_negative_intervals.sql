{#- VEE rule negative_interval: the register went backwards (register reset or meter exchange). -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_interval_day_checks') }}

),

negative_intervals as (

    select
        meter_id,
        day,
        'negative_interval' as reason_code,
        negative_intervals as exception_count,
        most_negative_kwh as observed_value,
        0 as threshold,
        negative_first_at as first_at,
        negative_last_at as last_at

    from day_checks

    where negative_intervals > 0

),

final as (

    select
        {{ vee_exception_columns() }}

    from negative_intervals

)

select * from final
