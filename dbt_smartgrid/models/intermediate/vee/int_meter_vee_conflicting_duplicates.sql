{#- VEE rule conflicting_duplicate: readings for the same meter and time that pass the other contract §3 rules
    but disagree (the contract keeps the latest arrival; this records that they differed). -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_reading_day_checks') }}

),

conflicting_duplicates as (

    select
        meter_id,
        day,
        'conflicting_duplicate' as reason_code,
        conflicting_times as exception_count,
        conflicting_max_spread_kwh as observed_value,
        0 as threshold,
        conflicting_first_at as first_at,
        conflicting_last_at as last_at

    from day_checks

    where conflicting_times > 0

),

final as (

    select
        {{ vee_exception_columns() }}

    from conflicting_duplicates

)

select * from final
