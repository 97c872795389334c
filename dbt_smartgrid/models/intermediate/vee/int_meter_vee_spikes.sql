{#- VEE rule spike (Oracle MDM's Interval Spike Check): per meter and UTC day, the highest measured interval
    vs the third-highest; days whose third-highest is 0 are not judged. -#}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

measured_intervals_ranked as (

    select
        meter_id,
        (started_at at time zone 'UTC')::date as day,
        delta_kwh,
        started_at,
        ended_at,

        row_number() over (
            partition by meter_id, (started_at at time zone 'UTC')::date
            order by delta_kwh desc, started_at
        ) as rank_in_day

    from meter_intervals

    where interval_kind = 'measured'
        and not is_negative

),

highest_intervals_by_day as (

    select
        meter_id,
        day,
        max(delta_kwh) filter (where rank_in_day = 1) as highest_kwh,
        max(delta_kwh) filter (where rank_in_day = 3) as third_highest_kwh,
        min(started_at) filter (where rank_in_day = 1) as highest_started_at,
        min(ended_at) filter (where rank_in_day = 1) as highest_ended_at

    from measured_intervals_ranked

    where rank_in_day <= 3

    group by 1, 2

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

    from highest_intervals_by_day

    where third_highest_kwh > 0
        and 100 * (highest_kwh - third_highest_kwh) / third_highest_kwh > {{ var('vee_spike_pct') }}

),

final as (

    select
        {{ vee_exception_columns() }}

    from spikes

)

select * from final
