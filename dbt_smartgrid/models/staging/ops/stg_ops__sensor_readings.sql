with

source as (

    select * from {{ source('ops', 'sensor_data') }}

),

renamed as (

    select

        ---------- ids
        id as source_row_id,
        event_id,
        sensor_id,

        ---------- strings
        sensor_type,

        ---------- numerics
        value,
        latitude,
        longitude,

        ---------- json
        metadata,

        ---------- timestamps
        "timestamp" at time zone 'UTC' as measured_at,
        date_trunc('hour', "timestamp") at time zone 'UTC' as hour_start,
        created_at at time zone 'UTC' as arrived_at,
        _loaded_at as loaded_at,
        _load_id as load_id

    from source

)

select * from renamed
