{#- The grid report's network section: every transformer-hour (and the 'unconnected' bucket) with its loading,
    the hour on the utility's wall clock, and where the transformer stands now (dim_transformers). -#}

with

transformer_hours as (

    select * from {{ ref('fct_transformer_loading_hourly') }}

),

transformers as (

    select * from {{ ref('dim_transformers') }}

),

final as (

    select
        transformer_hours.transformer_id,
        transformer_hours.feeder_id,
        transformer_hours.hour_start,
        to_char(
            transformer_hours.hour_start at time zone '{{ var("local_time_zone") }}', 'YYYY-MM-DD HH24:MI'
        ) as local_hour,
        '{{ var("local_time_zone") }}'::text as time_zone,
        transformer_hours.rated_kva,
        transformer_hours.avg_kw,
        transformer_hours.energy_kwh,
        transformer_hours.loading_pct,
        transformer_hours.is_overloaded,
        transformer_hours.meter_count,
        transformers.latitude,
        transformers.longitude

    from transformer_hours

    left join transformers
        on transformer_hours.transformer_id = transformers.transformer_id

)

select * from final
