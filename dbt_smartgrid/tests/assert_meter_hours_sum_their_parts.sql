{{ config(tags=["invariant", "daily_run"]) }}

-- Every meter-hour of fct_meter_consumption_hourly built since checks_scope_start() (the daily run: everything since
-- its last pass; `smartgrid check --full`: all of history) holds exactly the sum of the interval parts that fall in
-- it (int_meter_interval_hours).
-- Not in the hourly build (tag daily_run, like assert_customer_days_sum_their_meter_hours): there its scope is the
-- meter-hours the same build has just summed from those parts, so it could fail only if the build wrote other
-- values than it summed (the model's SQL or its materialization), which its unit tests and make test check. It
-- cost 1.3 s of the utility-S hour behind a day (line of 2026-12-07T13:43:16), between the hourly mart and the
-- daily marts. What only it can find, an hour whose parts changed after the hour was summed, the daily run finds
-- over the hours summed since its last pass.

with

meter_hours as (

    select * from {{ ref('fct_meter_consumption_hourly') }}

    where loaded_through >= {{ checks_scope_start() }}

),

parts_by_hour as (

    select
        meter_hours.meter_id,
        meter_hours.hour_start,
        meter_hours.consumption_kwh,
        sum(interval_hours.energy_kwh) as parts_kwh

    from meter_hours

    inner join {{ ref('int_meter_interval_hours') }} as interval_hours
        on meter_hours.meter_id = interval_hours.meter_id
        and meter_hours.hour_start = interval_hours.hour_start

    group by 1, 2, 3

)

select * from parts_by_hour

where parts_kwh is distinct from consumption_kwh
