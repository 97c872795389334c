{#- VEE rule flat_line: at least vee_flat_line_intervals consecutive zero measured intervals on a meter that
    has consumed energy before, per meter and UTC day the zero intervals start in. -#}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

zero_intervals as (

    select
        meter_id,
        started_at,
        ended_at,

        {#- consecutive intervals share a reading: a run breaks where the previous zero interval did not end
            where this one starts -#}
        case
            when lag(ended_at) over (partition by meter_id order by ended_at) = started_at then 0
            else 1
        end as starts_run

    from meter_intervals

    where interval_kind = 'measured'
        and delta_kwh = 0

),

zero_intervals_numbered as (

    select
        *,
        sum(starts_run) over (partition by meter_id order by ended_at) as run_number

    from zero_intervals

),

zero_runs as (

    select
        meter_id,
        run_number,
        min(started_at) as run_started_at,
        count(*) as run_length

    from zero_intervals_numbered

    group by 1, 2

),

first_consumption as (

    select
        meter_id,
        min(ended_at) as first_consumed_at

    from meter_intervals

    where delta_kwh > 0

    group by 1

),

qualifying_zero_runs as (

    select zero_runs.*

    from zero_runs

    inner join first_consumption
        on zero_runs.meter_id = first_consumption.meter_id

    where zero_runs.run_length >= {{ var('vee_flat_line_intervals') }}
        and first_consumption.first_consumed_at <= zero_runs.run_started_at

),

flat_lines as (

    select
        zero_intervals_numbered.meter_id,
        (zero_intervals_numbered.started_at at time zone 'UTC')::date as day,
        'flat_line' as reason_code,
        count(*) as exception_count,
        max(qualifying_zero_runs.run_length) as observed_value,
        {{ var('vee_flat_line_intervals') }} as threshold,
        min(zero_intervals_numbered.started_at) as first_at,
        max(zero_intervals_numbered.ended_at) as last_at

    from zero_intervals_numbered

    inner join qualifying_zero_runs
        on zero_intervals_numbered.meter_id = qualifying_zero_runs.meter_id
        and zero_intervals_numbered.run_number = qualifying_zero_runs.run_number

    group by 1, 2

),

final as (

    select
        {{ vee_exception_columns() }}

    from flat_lines

)

select * from final
