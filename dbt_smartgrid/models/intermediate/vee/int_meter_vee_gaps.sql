{#- VEE rule gap: per meter and local day, fewer quarter-hour readings found than expected (96 a day; 92 or 100
    on DST days; between the meter's first and last reading on the days it starts or stops reporting). -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_reading_day_checks') }}

),

gaps as (

    select
        meter_id,
        day,
        'gap' as reason_code,
        expected_intervals - found_intervals as exception_count,
        found_intervals as observed_value,
        expected_intervals as threshold,
        first_gap_at as first_at,
        last_gap_at as last_at

    from day_checks

    where found_intervals < expected_intervals

),

final as (

    select
        {{ vee_exception_columns() }}

    from gaps

)

select * from final
