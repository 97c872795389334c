with

source as (

    select * from {{ source('ops', 'meter_connections') }}

),

renamed as (

    select

        ---------- ids
        id as source_row_id,
        meter_id,
        transformer_id,

        ---------- timestamps
        valid_from at time zone 'UTC' as valid_from,
        created_at at time zone 'UTC' as arrived_at,
        _loaded_at as loaded_at,
        _load_id as load_id

    from source

)

select * from renamed
