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
        post_hook=[
            "create index if not exists {{ this.identifier }}_spikes_idx on {{ this }} (day)
                where third_highest_kwh > 0
                    and 100 * (highest_kwh - third_highest_kwh) / third_highest_kwh > {{ var('vee_spike_pct') }}",
            "create index if not exists {{ this.identifier }}_flat_lines_idx on {{ this }} (day)
                where flat_line_intervals > 0",
            "create index if not exists {{ this.identifier }}_negative_idx on {{ this }} (day)
                where negative_intervals > 0",
        ],
    )
}}

{#- The figures of the VEE rules on a meter's register intervals, one row per meter and local day (var
    local_time_zone), each interval counted on the day it starts: the highest and third-highest measured
    intervals (spike), intervals whose register went backwards (negative_interval) and zero intervals of flat
    lines (flat_line: a run of at least vee_flat_line_intervals zero measured intervals on a meter with a
    positive interval in the vee_flat_line_active_days before the run). Incremental: the local days that an
    interval rebuilt since the last run overlaps, and the days before and after them (a run may cross
    midnight), are checked again; each meter's intervals from the day before to the day after are read once.
    The hourly flow passes var vee_day_checks=false (nothing is checked); the daily run judges the day.
    Each rule view reads a day's exceptions through its own partial index on day (post_hook): a day's rows lie
    on as many heap pages as the hourly rewrites scattered them over, and few of them fail a rule. -#}

{%- set time_zone = var('local_time_zone') %}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

checked_days as (

    select
        meter_id,
        day,
        day::timestamp at time zone '{{ time_zone }}' as day_started_at,
        (day + 1)::timestamp at time zone '{{ time_zone }}' as day_ended_at,
        (day - 1)::timestamp at time zone '{{ time_zone }}' as window_started_at,
        (day + 2)::timestamp at time zone '{{ time_zone }}' as window_ended_at

    from (
        select distinct
            meter_intervals.meter_id,
            (calendar.day::date + neighbour.n) as day  -- noqa: RF04
        from meter_intervals
        cross join lateral generate_series(
            (meter_intervals.started_at at time zone '{{ time_zone }}')::date::timestamp,
            ((meter_intervals.ended_at - interval '1 microsecond') at time zone '{{ time_zone }}')::date::timestamp,
            interval '1 day'
        ) as calendar (day)  -- noqa: RF04
        cross join (values (-1), (0), (1)) as neighbour (n)
        {% if is_incremental() %}
        where meter_intervals.loaded_through > {{ incremental_watermark() }} and {{ var('vee_day_checks') }}
        {% endif %}
    ) as meter_days_to_check

),

span_intervals as (

    select
        intervals.meter_id,
        (intervals.started_at at time zone '{{ time_zone }}')::date as day,
        intervals.started_at,
        intervals.ended_at,
        intervals.delta_kwh,
        intervals.interval_kind = 'measured' and not intervals.is_negative as is_measured,
        intervals.interval_kind = 'measured' and intervals.delta_kwh = 0 as is_zero

    from (
        select
            meter_id,
            min(window_started_at) as span_started_at,
            max(window_ended_at) as span_ended_at
        from checked_days
        group by 1
    ) as spans

    inner join meter_intervals as intervals
        on
            spans.meter_id = intervals.meter_id
            and spans.span_started_at < intervals.ended_at
            and spans.span_ended_at + interval '{{ var("meter_interval_minutes") }} minutes' >= intervals.ended_at
            and spans.span_ended_at > intervals.started_at

),

spikes as (

    select
        meter_id,
        day,
        max(delta_kwh) filter (where rank_in_day = 1) as highest_kwh,
        max(delta_kwh) filter (where rank_in_day = 3) as third_highest_kwh,
        min(started_at) filter (where rank_in_day = 1) as highest_started_at,
        min(ended_at) filter (where rank_in_day = 1) as highest_ended_at

    from (
        select
            *,
            row_number() over (partition by meter_id, day order by delta_kwh desc, started_at) as rank_in_day
        from span_intervals
        where is_measured
    ) as ranked

    where rank_in_day <= 3
    group by 1, 2

),

zero_intervals as (

    -- runs of zero measured intervals, numbered by the intervals that break them; a run is judged from its start
    -- or from the start of the day before, whichever is later, the same in a full and an incremental build

    select
        *,
        count(*) over (partition by meter_id, run_number) as run_length,
        greatest(
            min(started_at) over (partition by meter_id, run_number),
            (day - 1)::timestamp at time zone '{{ time_zone }}'
        ) as judged_from

    from (
        select
            *,
            sum(case when is_zero then 0 else 1 end) over (partition by meter_id order by ended_at) as run_number
        from span_intervals
    ) as numbered
    where is_zero

),

zero_runs as (

    select
        meter_id,
        day,
        judged_from,
        count(*) as intervals_in_day,
        min(started_at) as first_at,
        max(ended_at) as last_at

    from zero_intervals
    where run_length >= {{ var('vee_flat_line_intervals') }}
    group by 1, 2, 3, run_number

),

flat_lines as (

    select
        zero_runs.meter_id,
        zero_runs.day,
        sum(zero_runs.intervals_in_day) as zero_intervals,
        max(zero_runs.intervals_in_day) as longest_run_in_day,
        min(zero_runs.first_at) as first_at,
        max(zero_runs.last_at) as last_at

    from zero_runs
    where exists (
        select from meter_intervals as consumption
        where consumption.meter_id = zero_runs.meter_id
            and consumption.ended_at <= zero_runs.judged_from
            and consumption.ended_at >= zero_runs.judged_from - interval '{{ var("vee_flat_line_active_days") }} days'
            and consumption.delta_kwh > 0
    )

    group by 1, 2

),

final as (

    select
        checked_day.meter_id,
        checked_day.day,
        spikes.highest_kwh::numeric(19, 7) as highest_kwh,
        spikes.third_highest_kwh::numeric(19, 7) as third_highest_kwh,
        spikes.highest_started_at,
        spikes.highest_ended_at,
        negatives.intervals::integer as negative_intervals,
        negatives.most_negative_kwh::numeric(19, 7) as most_negative_kwh,
        negatives.first_at as negative_first_at,
        negatives.last_at as negative_last_at,
        coalesce(flat_lines.zero_intervals, 0)::integer as flat_line_intervals,
        flat_lines.longest_run_in_day::integer as flat_line_longest_run,
        flat_lines.first_at as flat_line_first_at,
        flat_lines.last_at as flat_line_last_at,
        (select max(meter_intervals.loaded_through) from meter_intervals) as loaded_through

    from checked_days as checked_day

    left join spikes on checked_day.meter_id = spikes.meter_id and checked_day.day = spikes.day
    left join flat_lines on checked_day.meter_id = flat_lines.meter_id and checked_day.day = flat_lines.day

    cross join lateral (  -- the partial index on irregular intervals (int_meter_intervals)
        select
            count(*) as intervals,
            min(meter_intervals.delta_kwh) as most_negative_kwh,
            min(meter_intervals.started_at) as first_at,
            max(meter_intervals.ended_at) as last_at
        from meter_intervals
        where
            meter_intervals.meter_id = checked_day.meter_id
            and meter_intervals.is_negative
            and meter_intervals.started_at >= checked_day.day_started_at
            and meter_intervals.started_at < checked_day.day_ended_at
    ) as negatives

)

select * from final
