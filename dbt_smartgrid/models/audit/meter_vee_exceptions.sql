{#- The VEE validation rules for meters, one row per meter, UTC day and failed rule. Interval rules attribute an
    interval to the day it starts in (as the hourly mart attributes its energy). A view, like
    rejected_readings: always exactly what the intermediate models hold. -#}

{%- set slot_seconds = var('meter_interval_minutes') * 60 %}

with

meter_readings as (

    select * from {{ ref('int_meter_readings_validated') }}

),

meter_intervals as (

    select * from {{ ref('int_meter_intervals') }}

),

valid_readings as (

    select * from meter_readings

    where is_valid

),

---------- gap: quarter-hour readings found vs expected, between the meter's first and last reading

meter_days as (

    select
        spans.meter_id,
        days.day::date as day,
        spans.first_reading_at,
        spans.last_reading_at

    from (
        select
            meter_id,
            min(reading_at) as first_reading_at,
            max(reading_at) as last_reading_at
        from valid_readings
        group by 1
    ) as spans

    cross join lateral generate_series(
        (spans.first_reading_at at time zone 'UTC')::date::timestamp,
        (spans.last_reading_at at time zone 'UTC')::date::timestamp,
        interval '1 day'
    ) as days (day)

),

expected_slots as (

    select
        meter_id,
        day,

        greatest(
            day::timestamp at time zone 'UTC',
            to_timestamp(ceil(extract(epoch from first_reading_at) / {{ slot_seconds }}) * {{ slot_seconds }})
        ) as first_slot_at,

        least(
            day::timestamp at time zone 'UTC' + interval '{{ 86400 - slot_seconds }} seconds',
            to_timestamp(floor(extract(epoch from last_reading_at) / {{ slot_seconds }}) * {{ slot_seconds }})
        ) as last_slot_at

    from meter_days

),

found_slots as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        count(distinct reading_at) as found_intervals

    from valid_readings

    where extract(epoch from reading_at) % {{ slot_seconds }} = 0

    group by 1, 2

),

gap_intervals_by_day as (

    select
        meter_days.meter_id,
        meter_days.day,
        min(meter_intervals.started_at) as first_gap_at,
        max(meter_intervals.ended_at) as last_gap_at

    from meter_days

    inner join meter_intervals
        on meter_days.meter_id = meter_intervals.meter_id
        and meter_intervals.started_at < (meter_days.day + 1)::timestamp at time zone 'UTC'
        and meter_intervals.ended_at > meter_days.day::timestamp at time zone 'UTC'

    where meter_intervals.interval_kind <> 'measured'

    group by 1, 2

),

gaps as (

    select
        expected_slots.meter_id,
        expected_slots.day,
        'gap' as reason_code,
        expected.intervals - coalesce(found_slots.found_intervals, 0) as exception_count,
        coalesce(found_slots.found_intervals, 0) as observed_value,
        expected.intervals as threshold,
        gap_intervals_by_day.first_gap_at as first_at,
        gap_intervals_by_day.last_gap_at as last_at

    from expected_slots

    cross join lateral (
        select
            case
                when expected_slots.last_slot_at >= expected_slots.first_slot_at
                    then (extract(epoch from expected_slots.last_slot_at - expected_slots.first_slot_at)
                        / {{ slot_seconds }})::integer + 1
                else 0
            end as intervals
    ) as expected

    left join found_slots
        on expected_slots.meter_id = found_slots.meter_id
        and expected_slots.day = found_slots.day

    left join gap_intervals_by_day
        on expected_slots.meter_id = gap_intervals_by_day.meter_id
        and expected_slots.day = gap_intervals_by_day.day

    where coalesce(found_slots.found_intervals, 0) < expected.intervals

),

---------- spike: the day's highest measured interval vs its third-highest

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

---------- flat line: consecutive zero measured intervals on a meter that has consumed before

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

---------- negative interval: the register went backwards (reset or meter exchange)

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

---------- conflicting duplicate: readings for the same meter and time that disagree

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

---------- clock problems: readings from the future, readings off the quarter-hour grid

future_timestamps as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        'future_timestamp' as reason_code,
        count(*) as exception_count,
        round(max(extract(epoch from reading_at - arrived_at)) / 60, 2) as observed_value,
        {{ var('future_tolerance_minutes') }} as threshold,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from meter_readings

    where reading_at > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'

    group by 1, 2

),

off_grid_readings as (

    select
        meter_id,
        (reading_at at time zone 'UTC')::date as day,
        'off_grid' as reason_code,
        count(*) as exception_count,
        count(*) as observed_value,
        0 as threshold,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from valid_readings

    where extract(epoch from reading_at) % {{ slot_seconds }} <> 0

    group by 1, 2

),

unioned as (

    select * from gaps
    union all
    select * from spikes
    union all
    select * from flat_lines
    union all
    select * from negative_intervals
    union all
    select * from conflicting_duplicates
    union all
    select * from future_timestamps
    union all
    select * from off_grid_readings

),

final as (

    select
        meter_id,
        day,
        reason_code,
        exception_count::integer as exception_count,
        observed_value::numeric(20, 7) as observed_value,
        threshold::numeric(20, 7) as threshold,
        first_at,
        last_at

    from unioned

)

select * from final
