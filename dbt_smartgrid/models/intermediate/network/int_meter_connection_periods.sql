{#- The meters' connections in force (contract §1): of the rows with the same meter_id and valid_from the latest
    arrival wins (ties by the highest id), and each connection holds until the meter's next one. A view: the
    network is small (one row per meter connection version). -#}

with

meter_connections as (

    select * from {{ ref('stg_ops__meter_connections') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by meter_id, valid_from
            order by arrived_at desc, source_row_id desc
        ) as correction_rank

    from meter_connections

),

final as (

    select
        meter_id,
        transformer_id,
        valid_from,
        lead(valid_from) over (partition by meter_id order by valid_from) as valid_to,
        source_row_id,
        loaded_at

    from ranked

    where correction_rank = 1

)

select * from final
