{{ config(tags=["whole_history"]) }}

-- For every meter, the VEE mart's hours add up exactly to the contract §4 mart's (which add up to the register's
-- non-negative deltas): like-day estimates only redistribute each long gap's register delta over its hours.
-- Returns the meters where the totals differ, or the hours one mart has and the other lacks.

with

spec_hours as (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

vee_hours as (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}

),

spec_totals as (

    select
        meter_id,
        count(*) as hours,
        sum(consumption_kwh) as total_kwh

    from spec_hours

    group by 1

),

vee_totals as (

    select
        meter_id,
        count(*) as hours,
        sum(vee_kwh) as total_kwh

    from vee_hours

    group by 1

)

select
    coalesce(spec_totals.meter_id, vee_totals.meter_id) as meter_id,
    spec_totals.hours as spec_hours,
    vee_totals.hours as vee_hours,
    spec_totals.total_kwh as spec_kwh,
    vee_totals.total_kwh as vee_kwh

from spec_totals

full outer join vee_totals
    on spec_totals.meter_id = vee_totals.meter_id

where spec_totals.hours is distinct from vee_totals.hours
    or spec_totals.total_kwh is distinct from vee_totals.total_kwh
