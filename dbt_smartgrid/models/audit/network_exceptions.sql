{#- Every piece of bad network input, with its reason (contract §4). None stops a run: a connection to an unknown
    transformer and a meter without a connection put the meter's energy into the 'unconnected' bucket of
    fct_transformer_loading_hourly for those hours; a transformer without a rating has no loading_pct, one without
    a feeder counts under feeder 'unknown'. A view, read on demand: meters with energy are found from the register
    intervals' (meter_id, ended_at) index, a few probes per meter. -#}

with recursive

connections as (

    select * from {{ ref('int_meter_connection_periods') }}

),

transformer_versions as (

    select * from {{ ref('int_transformer_versions') }}

),

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

unknown_transformers as (

    select
        'unknown_transformer' as reason_code,
        connections.meter_id,
        connections.transformer_id,
        connections.valid_from,
        connections.valid_to,
        'no version of the transformer is in force at the connection''s valid_from' as detail,
        connections.loaded_at

    from connections

    where not exists (
        select from transformer_versions
        where
            transformer_versions.transformer_id = connections.transformer_id
            and transformer_versions.valid_from <= connections.valid_from
    )

),

transformers_without_rating as (

    select
        'missing_rating' as reason_code,
        null as meter_id,
        transformer_id,
        valid_from,
        valid_to,
        'rated_kva is ' || coalesce(rated_kva::text, 'NULL') as detail,
        loaded_at

    from transformer_versions

    where not has_rating

),

transformers_without_feeder as (

    select
        'missing_feeder' as reason_code,
        null as meter_id,
        transformer_id,
        valid_from,
        valid_to,
        'feeder_id is NULL' as detail,
        loaded_at

    from transformer_versions

    where feeder_id is null

),

first_connections as (

    select
        meter_id,
        min(valid_from) as valid_from

    from connections

    group by 1

),

meter_ids as (

    -- every meter with an interval, one probe of the (meter_id, ended_at) index per meter (a loose index scan),
    -- never a scan of every interval
    (
        select meter_intervals.meter_id
        from meter_intervals
        order by meter_intervals.meter_id
        limit 1
    )

    union all

    select (
        select later.meter_id
        from meter_intervals as later
        where later.meter_id > meter_ids.meter_id
        order by later.meter_id
        limit 1
    ) as meter_id

    from meter_ids

    where meter_ids.meter_id is not null

),

meters_with_energy as (

    -- a meter's first interval starts its first hour with energy (intervals follow each other)
    select
        meter_ids.meter_id,
        date_trunc('hour', first_interval.started_at, 'UTC') as first_hour,
        last_interval.loaded_through as loaded_at

    from meter_ids

    cross join lateral (
        select meter_intervals.started_at
        from meter_intervals
        where meter_intervals.meter_id = meter_ids.meter_id
        order by meter_intervals.ended_at
        limit 1
    ) as first_interval

    cross join lateral (
        select meter_intervals.loaded_through
        from meter_intervals
        where meter_intervals.meter_id = meter_ids.meter_id
        order by meter_intervals.ended_at desc
        limit 1
    ) as last_interval

),

unconnected_meters as (

    -- the hours before the meter's first connection (all its hours when it has none)
    select
        'unconnected_meter' as reason_code,
        meters_with_energy.meter_id,
        null as transformer_id,
        meters_with_energy.first_hour as valid_from,
        first_connections.valid_from as valid_to,
        'energy without a connection to a transformer' as detail,
        meters_with_energy.loaded_at

    from meters_with_energy

    left join first_connections
        on meters_with_energy.meter_id = first_connections.meter_id

    where
        (first_connections.valid_from is null or first_connections.valid_from > meters_with_energy.first_hour)
        and exists (select from connections)  -- a fleet without a network has no unconnected meters

),

final as (

    select * from unknown_transformers
    union all
    select * from transformers_without_rating
    union all
    select * from transformers_without_feeder
    union all
    select * from unconnected_meters

)

select * from final
