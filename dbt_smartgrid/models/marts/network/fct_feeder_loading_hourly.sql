{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={
            'distribution_column': 'feeder_id',
            'multi_shard_delete': 'whole hours: a transformer moving to another feeder must leave its old row',
            'gx_window': false,
        },
        unique_key='hour_start',
        indexes=[
            {'columns': ['feeder_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Feeder loading per UTC hour (contract §4): the sum over the transformer-hours of fct_transformer_loading_hourly
    whose transformer hangs on the feeder in that hour (the 'unconnected' bucket is its own feeder, so the feeders
    too add up to the fleet's energy). Its rating is the installed capacity: the sum of those transformers'
    ratings, and loading_pct is NULL when one of them has none.

    Whole hours are rebuilt: the hours with transformer rows rebuilt since the last run (a transformer moved to
    another feeder leaves its old feeder's row of the hour, which only a rebuild of the whole hour removes).

    Not in the Great Expectations checkpoint (meta gx_window: false): dbt's tests and the network invariant
    check it, and a fleet without a network pays nothing for it. -#}

with

transformer_hours as not materialized (

    select * from {{ ref('fct_transformer_loading_hourly') }}

),

hours_to_rebuild as (

    select distinct hour_start

    from transformer_hours

    {% if is_incremental() %}
    where loaded_through > {{ incremental_watermark() }}
    {% endif %}

),

aggregated as (

    select
        transformer_hours.feeder_id,
        transformer_hours.hour_start,
        sum(transformer_hours.energy_kwh) as energy_kwh,
        sum(transformer_hours.rated_kva) as rated_kva,
        count(*) filter (where transformer_hours.transformer_id <> 'unconnected') as transformer_count,
        count(*) filter (
            where transformer_hours.transformer_id <> 'unconnected' and transformer_hours.rated_kva is null
        ) as unrated_transformer_count,
        sum(transformer_hours.meter_count) as meter_count,
        sum(transformer_hours.estimated_meter_count) as estimated_meter_count

    from hours_to_rebuild

    inner join transformer_hours
        on hours_to_rebuild.hour_start = transformer_hours.hour_start

    group by 1, 2

),

with_loading as (

    select
        *,
        case when unrated_transformer_count = 0 then
            round(100 * energy_kwh / (rated_kva * {{ var('network_power_factor') }}), 2)
        end::numeric(12, 2) as loading_pct

    from aggregated

),

final as (

    select
        feeder_id::varchar(100) as feeder_id,
        hour_start,
        energy_kwh::numeric(20, 9) as energy_kwh,
        energy_kwh::numeric(20, 9) as avg_kw,  -- the hour's energy over one hour
        rated_kva::numeric(12, 2) as rated_kva,
        loading_pct,
        loading_pct > {{ var('network_overload_pct') }} as is_overloaded,
        transformer_count::integer as transformer_count,
        unrated_transformer_count::integer as unrated_transformer_count,
        meter_count::integer as meter_count,
        estimated_meter_count::integer as estimated_meter_count,
        (select max(transformer_hours.loaded_through) from transformer_hours) as loaded_through

    from with_loading

)

select * from final
