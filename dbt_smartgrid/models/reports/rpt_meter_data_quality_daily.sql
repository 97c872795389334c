{#- The grid report's meters x days heat map: how each hour of a meter's local day (var local_time_zone) was
    obtained (its VEE quality code), and the hours with no energy row at all, as shares of the day's hours.
    The grid report names its window in the session (smartgrid.report_start / smartgrid.report_end): then only
    the hours inside it count, and a day cut by the window is divided by its hours inside it. Unset: whole days
    of 23, 24 or 25 hours. -#}

{%- set zone = var('local_time_zone') %}

with

meter_hours as (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}
    -- the report's window when the session names one (current_setting is stable: the hour index is used)
    where
        hour_start >= coalesce(nullif(current_setting('smartgrid.report_start', true), ''), '-infinity')::timestamptz
        and hour_start < coalesce(nullif(current_setting('smartgrid.report_end', true), ''), 'infinity')::timestamptz

),

hours_by_code as (

    select
        meter_id,
        (hour_start at time zone '{{ zone }}')::date as day,
        count(*) as hours_with_energy,
        count(*) filter (where vee_quality_code = 0) as hours_measured,
        count(*) filter (where vee_quality_code = 9) as hours_interpolated,
        count(*) filter (where vee_quality_code = 8) as hours_like_day,
        count(*) filter (where vee_quality_code = 10) as hours_questionable

    from meter_hours

    group by 1, 2

),

-- each day's hours inside the window: from local midnight to the next, absolute hours (23 or 25 on DST days)
day_hours as (

    select
        meter_days.day,
        count(*) as hours_in_day

    from (select distinct day from hours_by_code) as meter_days

    cross join lateral generate_series(
        greatest(
            meter_days.day::timestamp at time zone '{{ zone }}',
            coalesce(nullif(current_setting('smartgrid.report_start', true), ''), '-infinity')::timestamptz
        ),
        least(
            (meter_days.day + 1)::timestamp at time zone '{{ zone }}',
            coalesce(nullif(current_setting('smartgrid.report_end', true), ''), 'infinity')::timestamptz
        ) - interval '1 hour',
        interval '1 hour'
    ) as hours (hour_start)

    group by 1

),

final as (

    select
        hours_by_code.meter_id,
        hours_by_code.day,
        day_hours.hours_in_day::integer as hours_in_day,
        hours_by_code.hours_measured::integer as hours_measured,
        hours_by_code.hours_interpolated::integer as hours_interpolated,
        hours_by_code.hours_like_day::integer as hours_like_day,
        hours_by_code.hours_questionable::integer as hours_questionable,
        (day_hours.hours_in_day - hours_by_code.hours_with_energy)::integer as hours_missing,
        round(100.0 * hours_by_code.hours_measured / day_hours.hours_in_day, 1)::numeric(4, 1) as measured_pct,
        round(100.0 * hours_by_code.hours_interpolated / day_hours.hours_in_day, 1)::numeric(4, 1)
            as interpolated_pct,
        round(100.0 * hours_by_code.hours_like_day / day_hours.hours_in_day, 1)::numeric(4, 1) as like_day_pct,
        round(100.0 * hours_by_code.hours_questionable / day_hours.hours_in_day, 1)::numeric(4, 1)
            as questionable_pct,
        round(
            100.0 * (day_hours.hours_in_day - hours_by_code.hours_with_energy) / day_hours.hours_in_day, 1
        )::numeric(4, 1) as missing_pct

    from hours_by_code

    inner join day_hours
        on hours_by_code.day = day_hours.day

)

select * from final
