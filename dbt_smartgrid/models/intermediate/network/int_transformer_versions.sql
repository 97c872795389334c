{#- The transformers' versions in force (contract §1): of the rows with the same transformer_id and valid_from the
    latest arrival wins (ties by the highest id), and each version holds until the next one's valid_from. A view:
    the network is small (one row per transformer version). -#}

with

transformers as (

    select * from {{ ref('stg_ops__transformers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by transformer_id, valid_from
            order by arrived_at desc, source_row_id desc
        ) as correction_rank

    from transformers

),

final as (

    select
        transformer_id,
        feeder_id,
        rated_kva,
        latitude,
        longitude,
        valid_from,
        lead(valid_from) over (partition by transformer_id order by valid_from) as valid_to,
        coalesce(rated_kva > 0, false) as has_rating,
        source_row_id,
        loaded_at

    from ranked

    where correction_rank = 1

)

select * from final
