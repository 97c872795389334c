{{ config(tags=["invariant"]) }}

-- The parts of every interval split since checks_scope_start() (the hourly build: the latest load; the daily run:
-- everything since its last pass) add up to the interval's register delta exactly (zero for a negative interval).
-- With assert_meter_hours_sum_their_parts this is the contract §4 energy invariant on what changed; the
-- whole-history check is assert_meter_energy_is_conserved (`smartgrid check --full`).

with

interval_hours as (

    select * from {{ ref('int_meter_interval_hours') }}

    where loaded_through >= {{ checks_scope_start() }}

)

select
    meter_id,
    ended_at,
    max(delta_kwh) as delta_kwh,
    sum(energy_kwh) as parts_kwh

from interval_hours

group by 1, 2

having sum(energy_kwh) <> case when bool_or(is_negative) then 0 else max(delta_kwh) end
