{#- The register intervals that the like-day method estimates: longer than max_interpolated_gap_hours and not
    negative. One row per gap, keyed by meter and the reading that ends it. A view over int_meter_intervals:
    both partial indexes on long gaps there serve it. -#}

with

meter_intervals as not materialized (

    select * from {{ ref('int_meter_intervals') }}

),

long_gaps as (

    select
        meter_id,
        started_at,
        ended_at,
        start_kwh,
        end_kwh,
        delta_kwh

    from meter_intervals

    where interval_kind = 'long_gap'
        and not is_negative

)

select * from long_gaps
