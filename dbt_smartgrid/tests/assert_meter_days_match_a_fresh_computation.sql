{{ config(tags=["daily_run"]) }}

-- The incremental hourly mart equals a fresh computation, for the meter-days (UTC) rebuilt since
-- checks_scope_start() of a sample of meters (var invariant_sample_pct, a different sample each day): each day's
-- energy recomputed straight from the valid readings of the day and the readings around it, without the interval
-- models, spreading each non-negative register step uniformly over its interval (contract §4). Returns the
-- meter-days that differ by more than 1e-6 kWh (the marts round the interpolated register to 9 decimals).

with

valid_readings as not materialized (

    select * from {{ ref('int_meter_readings_validated') }}

    where is_valid

),

meter_days as (

    select distinct
        meter_id,
        (hour_start at time zone 'UTC')::date as day  -- noqa: RF04

    from {{ ref('fct_meter_consumption_hourly') }}

    where
        loaded_through >= {{ checks_scope_start() }}
        and (abs(hashtext(meter_id)) + extract(doy from hour_start at time zone 'UTC')::integer) % 100
        < {{ var('invariant_sample_pct') }}

),

readings_around_days as (

    select
        meter_days.meter_id,
        meter_days.day,
        meter_days.day::timestamp at time zone 'UTC' as day_started_at,
        (meter_days.day + 1)::timestamp at time zone 'UTC' as day_ended_at,
        valid_readings.reading_at,
        valid_readings.reading_kwh

    from meter_days

    -- the last valid reading before the day and the first after it
    cross join lateral (  -- noqa: ST05
        select
            (select max(earlier.reading_at) from valid_readings as earlier
                where earlier.meter_id = meter_days.meter_id
                    and earlier.reading_at < meter_days.day::timestamp at time zone 'UTC') as from_at,
            (select min(later.reading_at) from valid_readings as later
                where later.meter_id = meter_days.meter_id
                    and later.reading_at > (meter_days.day + 1)::timestamp at time zone 'UTC') as to_at
    ) as around

    inner join valid_readings
        on
            meter_days.meter_id = valid_readings.meter_id
            and valid_readings.reading_at
            between coalesce(around.from_at, '-infinity') and coalesce(around.to_at, 'infinity')

),

steps as (

    select
        *,
        lag(reading_at) over by_time as started_at,
        lag(reading_kwh) over by_time as start_kwh

    from readings_around_days

    window by_time as (partition by meter_id, day order by reading_at)

),

fresh as (

    select
        meter_id,
        day,
        sum(
            greatest(reading_kwh - start_kwh, 0)
            * extract(epoch from least(reading_at, day_ended_at) - greatest(started_at, day_started_at))
            / extract(epoch from reading_at - started_at)
        ) as fresh_kwh

    from steps

    where started_at < day_ended_at and reading_at > day_started_at

    group by 1, 2

),

in_the_mart as (

    select
        meter_days.meter_id,
        meter_days.day,
        sum(hours.consumption_kwh) as mart_kwh

    from meter_days

    inner join {{ ref('fct_meter_consumption_hourly') }} as hours
        on
            meter_days.meter_id = hours.meter_id
            and meter_days.day::timestamp at time zone 'UTC' <= hours.hour_start
            and (meter_days.day + 1)::timestamp at time zone 'UTC' > hours.hour_start

    group by 1, 2

)

select
    in_the_mart.meter_id,
    in_the_mart.day,
    in_the_mart.mart_kwh,
    fresh.fresh_kwh

from in_the_mart

left join fresh
    on in_the_mart.meter_id = fresh.meter_id and in_the_mart.day = fresh.day

where abs(in_the_mart.mart_kwh - coalesce(fresh.fresh_kwh, 0)) > 0.000001
