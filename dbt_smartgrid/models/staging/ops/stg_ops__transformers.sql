with

source as (

    select * from {{ source('ops', 'transformers') }}

),

renamed as (

    select

        ---------- ids
        id as source_row_id,
        transformer_id,
        feeder_id,

        ---------- numerics
        rated_kva,
        latitude,
        longitude,

        ---------- timestamps
        valid_from at time zone 'UTC' as valid_from,
        created_at at time zone 'UTC' as arrived_at,
        _loaded_at as loaded_at,
        _load_id as load_id

    from source

)

select * from renamed
