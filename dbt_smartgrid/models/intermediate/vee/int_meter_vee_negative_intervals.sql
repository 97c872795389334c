{#- VEE rule negative_interval: the register went backwards (register reset or meter exchange). -#}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

negative_intervals as (

    select
        meter_id,
        (started_at at time zone 'UTC')::date as day,
        'negative_interval' as reason_code,
        count(*) as exception_count,
        min(delta_kwh) as observed_value,
        0 as threshold,
        min(started_at) as first_at,
        max(ended_at) as last_at

    from meter_intervals

    where is_negative

    group by 1, 2

),

final as (

    select
        {{ vee_exception_columns() }}

    from negative_intervals

)

select * from final
