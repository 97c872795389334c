{#- VEE rule spike (Oracle MDM's Interval Spike Check): per meter and local day, the highest measured interval
    vs the third-highest; days whose third-highest is 0 are not judged. -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_interval_day_checks') }}

),

spikes as (

    select
        meter_id,
        day,
        'spike' as reason_code,
        1 as exception_count,
        round(100 * (highest_kwh - third_highest_kwh) / third_highest_kwh, 2) as observed_value,
        {{ var('vee_spike_pct') }} as threshold,
        highest_started_at as first_at,
        highest_ended_at as last_at

    from day_checks

    where third_highest_kwh > 0
        and 100 * (highest_kwh - third_highest_kwh) / third_highest_kwh > {{ var('vee_spike_pct') }}

),

final as (

    select
        {{ vee_exception_columns() }}

    from spikes

)

select * from final
