with

source as (

    select * from {{ source('ops', 'meter_readings') }}

),

renamed as (

    select

        ---------- ids
        id as source_row_id,
        event_id,
        meter_id,
        customer_id,

        ---------- strings
        unit,

        ---------- numerics
        reading,
        ({{ to_kwh('reading', 'unit') }})::numeric(19, 7) as reading_kwh,

        ---------- timestamps
        "timestamp" at time zone 'UTC' as reading_at,
        date_trunc('hour', "timestamp") at time zone 'UTC' as hour_start,
        created_at at time zone 'UTC' as arrived_at,
        _loaded_at as loaded_at,
        _load_id as load_id

    from source

)

select * from renamed
