{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'day'],
        time_key='day',
        indexes=[
            {'columns': ['meter_id', 'day'], 'unique': True},
            {'columns': ['day']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- The figures of the VEE rules on a meter's readings, one row per meter and local day (var local_time_zone) that holds
    a reading or lies between its first and last: quarter-hours expected and found (gap), readings off the grid
    (off_grid) or ahead of their arrival (future_timestamp), and times whose valid and duplicate readings disagree
    (conflicting_duplicate). Incremental, in the daily run only (var vee_day_checks): the meter-days holding a reading
    loaded since the last run, or overlapped by an interval rebuilt since then, are checked again, reading by index. -#}

{%- set time_zone = var('local_time_zone') %}
{%- set slot_seconds = var('meter_interval_minutes') * 60 %}
{%- set tolerance = var('future_tolerance_minutes') %}
{%- set first_slot -%}{#- the day's first and last quarter-hour slot from the meter's first to last reading -#}
    greatest(meter_day.day_started_at,
        to_timestamp(ceil(extract(epoch from meter_day.first_reading_at) / {{ slot_seconds }}) * {{ slot_seconds }}))
{%- endset %}
{%- set last_slot -%}
    least(meter_day.day_ended_at - interval '{{ slot_seconds }} seconds',
        to_timestamp(floor(extract(epoch from meter_day.last_reading_at) / {{ slot_seconds }}) * {{ slot_seconds }}))
{%- endset %}

with

meter_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

),

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

meter_days_to_check as (

    select
        meter_id,
        (reading_at at time zone '{{ time_zone }}')::date as day  -- noqa: RF04
    from meter_readings
    where
        isfinite(reading_at)
        {% if is_incremental() %}
            and loaded_at > {{ incremental_watermark() }} and {{ var('vee_day_checks') }}
        {% endif %}

    union
    select
        meter_intervals.meter_id,
        calendar.day::date
    from meter_intervals
    cross join lateral generate_series(
        (meter_intervals.started_at at time zone '{{ time_zone }}')::date::timestamp,
        ((meter_intervals.ended_at - interval '1 microsecond') at time zone '{{ time_zone }}')::date::timestamp,
        interval '1 day'
    ) as calendar (day)  -- noqa: RF04
    {% if is_incremental() %}
        where meter_intervals.loaded_through > {{ incremental_watermark() }} and {{ var('vee_day_checks') }}
        {% endif %}

),

days_with_bounds as (

    select
        meter_days_to_check.meter_id,
        meter_days_to_check.day,
        meter_days_to_check.day::timestamp at time zone '{{ time_zone }}' as day_started_at,
        (meter_days_to_check.day + 1)::timestamp at time zone '{{ time_zone }}' as day_ended_at,
        span.first_reading_at,
        span.last_reading_at

    from meter_days_to_check

    cross join lateral (
        select
            min(meter_readings.reading_at) as first_reading_at,
            max(meter_readings.reading_at) as last_reading_at
        from meter_readings
        where meter_readings.meter_id = meter_days_to_check.meter_id and meter_readings.is_valid
    ) as span

),

readings_in_days as (

    select
        meter_day.meter_id,
        meter_day.day,
        readings.reading_at,
        readings.reading_kwh,
        readings.is_valid,
        readings.rejection_reason,
        extract(epoch from readings.reading_at) % {{ slot_seconds }} = 0 as is_on_grid,
        round(extract(epoch from readings.reading_at - readings.arrived_at) / 60, 2) as minutes_ahead

    from days_with_bounds as meter_day

    inner join meter_readings as readings
        on
            meter_day.meter_id = readings.meter_id
            and meter_day.day_started_at <= readings.reading_at
            and meter_day.day_ended_at > readings.reading_at

),

reading_figures as (

    select
        meter_id,
        day,
        count(distinct reading_at) filter (where is_valid and is_on_grid) as found_intervals,
        count(*) filter (where is_valid and not is_on_grid) as off_grid_readings,
        min(reading_at) filter (where is_valid and not is_on_grid) as off_grid_first_at,
        max(reading_at) filter (where is_valid and not is_on_grid) as off_grid_last_at,
        count(*) filter (where minutes_ahead > {{ tolerance }}) as future_readings,
        max(minutes_ahead) filter (where minutes_ahead > {{ tolerance }}) as future_max_minutes,
        min(reading_at) filter (where minutes_ahead > {{ tolerance }}) as future_first_at,
        max(reading_at) filter (where minutes_ahead > {{ tolerance }}) as future_last_at

    from readings_in_days

    group by 1, 2

),

conflicts_by_day as (

    select
        meter_id,
        day,
        count(*) as conflicting_times,
        max(spread_kwh) as max_spread_kwh,
        min(reading_at) as first_at,
        max(reading_at) as last_at

    from (
        select
            meter_id,
            day,
            reading_at,
            max(reading_kwh) - min(reading_kwh) as spread_kwh
        from readings_in_days
        where rejection_reason is null or rejection_reason = 'duplicate'
        group by 1, 2, 3
        having count(distinct reading_kwh) > 1
    ) as conflicting_times

    group by 1, 2

),

gap_intervals as (

    select
        meter_day.meter_id,
        meter_day.day,
        min(gaps.started_at) as first_gap_at,
        max(gaps.ended_at) as last_gap_at

    from days_with_bounds as meter_day

    inner join meter_intervals as gaps
        on
            meter_day.meter_id = gaps.meter_id
            and meter_day.day_started_at < gaps.ended_at
            and meter_day.day_ended_at > gaps.started_at

    where gaps.interval_kind <> 'measured'  -- the partial index on irregular intervals (int_meter_intervals)

    group by 1, 2

),

final as (

    select
        meter_day.meter_id,
        meter_day.day,
        expected.intervals::integer as expected_intervals,
        coalesce(reading_figures.found_intervals, 0)::integer as found_intervals,
        gap_intervals.first_gap_at,
        gap_intervals.last_gap_at,
        coalesce(reading_figures.off_grid_readings, 0)::integer as off_grid_readings,
        reading_figures.off_grid_first_at,
        reading_figures.off_grid_last_at,
        coalesce(reading_figures.future_readings, 0)::integer as future_readings,
        reading_figures.future_max_minutes::numeric(20, 2) as future_max_minutes,
        reading_figures.future_first_at,
        reading_figures.future_last_at,
        coalesce(conflicts_by_day.conflicting_times, 0)::integer as conflicting_times,
        conflicts_by_day.max_spread_kwh::numeric(20, 7) as conflicting_max_spread_kwh,
        conflicts_by_day.first_at as conflicting_first_at,
        conflicts_by_day.last_at as conflicting_last_at,
        (select max(meter_readings.loaded_at) from meter_readings) as loaded_through

    from days_with_bounds as meter_day

    -- the day's grid slots from the meter's first to its last valid reading
    cross join lateral (  -- noqa: ST05
        select
            case
                when meter_day.first_reading_at is null then 0
                else greatest(
                    0, (extract(epoch from {{ last_slot }} - {{ first_slot }}) / {{ slot_seconds }})::integer + 1
                )
            end as intervals
    ) as expected

    left join reading_figures on meter_day.meter_id = reading_figures.meter_id and meter_day.day = reading_figures.day
    left join gap_intervals on meter_day.meter_id = gap_intervals.meter_id and meter_day.day = gap_intervals.day
    left join conflicts_by_day
        on meter_day.meter_id = conflicts_by_day.meter_id and meter_day.day = conflicts_by_day.day

)

select * from final
