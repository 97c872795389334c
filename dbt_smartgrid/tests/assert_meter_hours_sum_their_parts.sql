{{ config(tags=["invariant"]) }}

-- Every meter-hour of fct_meter_consumption_hourly built since checks_scope_start() (the hourly build: the latest
-- load; the daily run: everything since its last pass) holds exactly the sum of the interval parts that fall in it
-- (int_meter_interval_hours).

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
