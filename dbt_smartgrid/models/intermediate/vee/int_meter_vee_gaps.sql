{#- VEE rule gap: per meter and UTC day, quarter-hour readings found vs expected (96 a day; between the
    meter's first and last reading on the days it starts or stops reporting). -#}

{%- set slot_seconds = var('meter_interval_minutes') * 60 %}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

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
        from meter_readings
        where is_valid
        group by 1
    ) as spans

    cross join lateral generate_series(
        (spans.first_reading_at at time zone 'UTC')::date::timestamp,
        (spans.last_reading_at at time zone 'UTC')::date::timestamp,
        interval '1 day'
    ) as days (day)  -- noqa: RF04

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

    from meter_readings

    where is_valid
        and extract(epoch from reading_at) % {{ slot_seconds }} = 0

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

    cross join lateral (  -- noqa: ST05
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

final as (

    select
        {{ vee_exception_columns() }}

    from gaps

)

select * from final
