{{ config(tags=["whole_history"]) }}

-- For every meter, the hourly mart's consumption adds up exactly to the sum of its non-negative register
-- deltas between consecutive valid readings (contract §4 invariant). Returns the meters where it does not.

with

valid_readings as (

    select * from {{ ref('int_meter_readings_validated') }}

    where is_valid

),

interval_deltas as (

    select
        meter_id,
        reading_kwh - lag(reading_kwh) over (partition by meter_id order by reading_at) as delta_kwh

    from valid_readings

),

expected as (

    select
        meter_id,
        coalesce(sum(delta_kwh) filter (where delta_kwh >= 0), 0) as expected_kwh

    from interval_deltas

    group by 1

),

actual as (

    select
        meter_id,
        sum(consumption_kwh) as actual_kwh

    from {{ ref('fct_meter_consumption_hourly') }}

    group by 1

)

select
    expected.meter_id,
    expected.expected_kwh,
    actual.actual_kwh

from expected

left join actual
    on expected.meter_id = actual.meter_id

where coalesce(actual.actual_kwh, 0) <> expected.expected_kwh
