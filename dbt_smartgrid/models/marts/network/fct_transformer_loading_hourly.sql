{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={
            'distribution_column': 'transformer_id',
            'multi_shard_delete': 'whole hours: a meter moving to another transformer must leave its old row',
            'gx_window': false,
        },
        unique_key='hour_start',
        indexes=[
            {'columns': ['transformer_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- Transformer loading per UTC hour from the meters' energy (contract §4): each meter-hour of
    fct_meter_consumption_hourly_vee belongs to the transformer the meter is connected to at the hour's start,
    when that transformer has a version in force then; otherwise to the 'unconnected' bucket, which has a row
    for every hour, so the transformers and 'unconnected' add up to the fleet's energy in every hour.

    Whole hours are rebuilt (unique_key hour_start: the batch's hours are deleted and inserted again). Incremental
    runs rebuild the hours with meter-hours rebuilt in the VEE mart (a late reading), the hours from a new or
    corrected connection's valid_from on for which its meter has energy, and the hours from a new transformer
    version's valid_from on. Empty while the source has no network (no meter connection), so a fleet without
    one does no work here.

    Not in the Great Expectations checkpoint (meta gx_window: false): dbt's tests and the network invariant
    check it, and a fleet without a network pays nothing for it. -#}

with

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly_vee') }}

),

connections as (

    select * from {{ ref('int_meter_connection_periods') }}

),

transformer_versions as (

    select * from {{ ref('int_transformer_versions') }}

),

{% if is_incremental() %}
hours_to_rebuild as (

    -- the VEE mart is a view: its hours rebuilt since the watermark are those of its two tables, each read
    -- through its own loaded_through index
    select hour_start
    from {{ ref('fct_meter_consumption_hourly') }}
    where loaded_through > {{ incremental_watermark() }}

    union

    select hour_start
    from {{ ref('fct_meter_hour_vee_adjustments') }}
    where loaded_through > {{ incremental_watermark() }}

    union

    -- a new connection version changes its meter's hours from its valid_from on
    select meter_hours.hour_start
    from {{ ref('stg_ops__meter_connections') }} as new_connections
    inner join meter_hours
        on new_connections.meter_id = meter_hours.meter_id
        and new_connections.valid_from <= meter_hours.hour_start
    where new_connections.loaded_at > {{ incremental_watermark() }}

    union

    -- a new transformer version changes every hour from its valid_from on ('unconnected' has a row in each)
    select rebuilt.hour_start
    from {{ this }} as rebuilt
    where
        rebuilt.transformer_id = 'unconnected'
        and rebuilt.hour_start >= (
            select min(new_transformers.valid_from)
            from {{ ref('stg_ops__transformers') }} as new_transformers
            where new_transformers.loaded_at > {{ incremental_watermark() }}
        )

),
{% else %}
hours_to_rebuild as (

    select distinct hour_start
    from meter_hours

),
{% endif %}

meter_hours_to_rebuild as (

    select
        meter_hours.meter_id,
        meter_hours.hour_start,
        meter_hours.vee_kwh,
        meter_hours.vee_kwh <> meter_hours.measured_kwh as is_estimated

    from hours_to_rebuild

    inner join meter_hours
        on hours_to_rebuild.hour_start = meter_hours.hour_start

    where exists (select from {{ ref('stg_ops__meter_connections') }})  -- no network: nothing to do

),

assigned as (

    select
        meter_hours_to_rebuild.hour_start,
        meter_hours_to_rebuild.meter_id,
        meter_hours_to_rebuild.vee_kwh,
        meter_hours_to_rebuild.is_estimated,
        coalesce(transformer_versions.transformer_id, 'unconnected') as transformer_id,
        coalesce(transformer_versions.feeder_id, case
            when transformer_versions.transformer_id is null then 'unconnected' else 'unknown'
        end) as feeder_id,
        transformer_versions.rated_kva,
        transformer_versions.has_rating

    from meter_hours_to_rebuild

    left join connections
        on meter_hours_to_rebuild.meter_id = connections.meter_id
        and meter_hours_to_rebuild.hour_start >= connections.valid_from
        and (connections.valid_to is null or meter_hours_to_rebuild.hour_start < connections.valid_to)

    left join transformer_versions
        on connections.transformer_id = transformer_versions.transformer_id
        and meter_hours_to_rebuild.hour_start >= transformer_versions.valid_from
        and (transformer_versions.valid_to is null or meter_hours_to_rebuild.hour_start < transformer_versions.valid_to)

    union all

    -- every hour has an 'unconnected' row, 0 when every meter is connected
    select distinct
        hour_start,
        null as meter_id,
        0 as vee_kwh,
        false as is_estimated,
        'unconnected' as transformer_id,
        'unconnected' as feeder_id,
        null::numeric as rated_kva,
        null::boolean as has_rating

    from meter_hours_to_rebuild

),

aggregated as (

    select
        transformer_id,
        hour_start,
        min(feeder_id) as feeder_id,
        min(rated_kva) filter (where has_rating) as rated_kva,
        sum(vee_kwh) as energy_kwh,
        count(meter_id) as meter_count,
        count(meter_id) filter (where is_estimated) as estimated_meter_count

    from assigned

    group by 1, 2

),

with_loading as (

    select
        *,
        round(100 * energy_kwh / (rated_kva * {{ var('network_power_factor') }}), 2)::numeric(12, 2) as loading_pct

    from aggregated

),

final as (

    select
        transformer_id::varchar(100) as transformer_id,
        hour_start,
        feeder_id::varchar(100) as feeder_id,
        rated_kva::numeric(10, 2) as rated_kva,
        energy_kwh::numeric(20, 9) as energy_kwh,
        energy_kwh::numeric(20, 9) as avg_kw,  -- the hour's energy over one hour
        loading_pct,
        loading_pct > {{ var('network_overload_pct') }} as is_overloaded,
        meter_count::integer as meter_count,
        estimated_meter_count::integer as estimated_meter_count,
        greatest(
            (select max(meter_hours.loaded_through) from {{ ref('fct_meter_consumption_hourly') }} as meter_hours),
            (select max(adjusted.loaded_through) from {{ ref('fct_meter_hour_vee_adjustments') }} as adjusted),
            (select max(connections.loaded_at) from {{ ref('stg_ops__meter_connections') }} as connections),
            (select max(transformers.loaded_at) from {{ ref('stg_ops__transformers') }} as transformers)
        ) as loaded_through

    from with_loading

)

select * from final
