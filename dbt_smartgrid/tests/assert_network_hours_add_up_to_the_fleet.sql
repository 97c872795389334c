{{ config(tags=["invariant"]) }}

-- Contract §4: in every hour of fct_transformer_loading_hourly built since checks_scope_start() (the hourly build:
-- the latest load; the daily run: everything since its last pass), the transformers and 'unconnected' add up to
-- the fleet's meter energy (fct_meter_consumption_hourly_vee), and so do the feeders of fct_feeder_loading_hourly.
-- Whole hours are rebuilt, so an hour's rows share their loaded_through. Empty without a network.

with

rebuilt_hours as (

    select
        hour_start,
        sum(energy_kwh) as transformers_kwh

    from {{ ref('fct_transformer_loading_hourly') }}

    where loaded_through >= {{ checks_scope_start() }}

    group by 1

),

compared as (

    select
        rebuilt_hours.hour_start,
        rebuilt_hours.transformers_kwh,
        (
            select sum(feeder_hours.energy_kwh)
            from {{ ref('fct_feeder_loading_hourly') }} as feeder_hours
            where feeder_hours.hour_start = rebuilt_hours.hour_start
        ) as feeders_kwh,
        (
            select sum(meter_hours.vee_kwh)
            from {{ ref('fct_meter_consumption_hourly_vee') }} as meter_hours
            where meter_hours.hour_start = rebuilt_hours.hour_start
        ) as fleet_kwh

    from rebuilt_hours

)

select * from compared

where transformers_kwh is distinct from fleet_kwh or feeders_kwh is distinct from fleet_kwh
