{#- VEE rule conflicting_duplicate: readings for the same meter and time that pass the other contract §3 rules
    but disagree (the contract keeps the latest arrival; this records that they differed). -#}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

conflicting_times as (

    select
        meter_id,
        reading_at,
        max(reading_kwh) - min(reading_kwh) as spread_kwh

    from meter_readings

    where rejection_reason is null
        or rejection_reason = 'duplicate'

    group by 1, 2

    having count(distinct reading_kwh) > 1

),

conflicting_duplicates as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        'conflicting_duplicate' as reason_code,
        count(*) as exception_count,
        max(spread_kwh) as observed_value,
        0 as threshold,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from conflicting_times

    group by 1, 2

),

final as (

    select
        {{ vee_exception_columns() }}

    from conflicting_duplicates

)

select * from final
