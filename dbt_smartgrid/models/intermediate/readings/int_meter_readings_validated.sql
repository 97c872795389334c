{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='hour_start',
        indexes=[
            {'columns': ['hour_start']},
            {'columns': ['loaded_at']},
            {'columns': ['meter_id', 'reading_at']},
        ],
    )
}}

{#- Every raw meter row, its register in kWh, and the first SPEC §3 rule it fails. Re-validated by whole
    hours, like the sensor rows. -#}

with

meter_readings as (

    select * from {{ ref('stg_ops__meter_readings') }}

    {% if is_incremental() %}
    where hour_start in (
        select distinct hour_start
        from {{ ref('stg_ops__meter_readings') }}
        where loaded_at > {{ incremental_watermark('loaded_at') }}
    )
    {% endif %}

),

rules_checked as (

    select
        *,

        case
            when reading = 'NaN'
                then 'not_a_number'
            when reading < 0
                then 'negative_reading'
            when reading_kwh is null
                then 'unknown_unit'
            when not isfinite(reading_at)
                or reading_at < {{ earliest_plausible_timestamp() }}
                then 'implausible_timestamp'
            when reading_at
                > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'
                then 'future_timestamp'
        end as rule_failed

    from meter_readings

),

ranked_among_valid as (

    select
        *,

        row_number() over (
            partition by meter_id, reading_at, rule_failed is null
            order by arrived_at desc, source_row_id desc
        ) as rank_among_valid

    from rules_checked

),

validated as (

    select
        source_row_id,
        event_id,
        meter_id,
        customer_id,
        reading,
        unit,
        reading_kwh,
        reading_at,
        hour_start,
        arrived_at,
        loaded_at,
        coalesce(
            rule_failed,
            case when rank_among_valid > 1 then 'duplicate' end
        ) as rejection_reason

    from ranked_among_valid

),

final as (

    select
        *,
        rejection_reason is null as is_valid

    from validated

)

select * from final
