{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'reading_at'],
        replaced_rows_where='loaded_at <= (select max(loaded_at) from __target__)',
        indexes=[
            {'columns': ['meter_id', 'reading_at']},
            {'columns': ['loaded_at']},
        ],
    )
}}

{#- Every raw meter row, its register in kWh, and the first contract §3 rule it fails.

    Incremental runs do work in proportion to the rows loaded since the last run: they check the new rows,
    and re-rank them together with the rows already here that share their duplicate key (meter_id,
    reading_at), found through the index on that key. Only those earlier rows are replaced;
    raw's unique event_id keeps each row here once. -#}

{#- the raw row's columns this model keeps; the new rows and the earlier rows they are re-ranked with share them -#}
{%- set reading_columns = [
    'source_row_id', 'event_id', 'meter_id', 'customer_id', 'reading', 'unit', 'reading_kwh', 'reading_at',
    'hour_start', 'arrived_at', 'loaded_at'
] %}

with

new_readings as not materialized (

    select * from {{ ref('stg_ops__meter_readings') }}

    {% if is_incremental() %}
    where loaded_at > {{ incremental_watermark('loaded_at') }}
    {% endif %}

),

new_readings_checked as (

    select
        {%- for column in reading_columns %}
        {{ column }},
        {%- endfor %}

        case
            when reading = 'NaN'
                then 'not_a_number'
            when reading < 0
                then 'negative_reading'
            when reading_kwh is null
                then 'unknown_unit'
            when {{ implausible_timestamp('reading_at') }}
                then 'implausible_timestamp'
            when reading_at
                > arrived_at + interval '{{ var("future_tolerance_minutes") }} minutes'
                then 'future_timestamp'
        end as rule_failed

    from new_readings

),

{% if is_incremental() %}

earlier_readings_with_same_key as (

    select
        {%- for column in reading_columns %}
        earlier.{{ column }},
        {%- endfor %}
        earlier.rule_failed

    from {{ this }} as earlier

    inner join (
        select distinct
            meter_id,
            reading_at
        from new_readings_checked
    ) as new_keys
        on earlier.meter_id = new_keys.meter_id
        and earlier.reading_at = new_keys.reading_at

),

{% endif %}

readings_to_rank as (

    select * from new_readings_checked

    {% if is_incremental() %}
    union all
    select * from earlier_readings_with_same_key
    {% endif %}

),

ranked_among_valid as (

    select
        *,

        row_number() over (
            partition by meter_id, reading_at, rule_failed is null
            order by arrived_at desc, source_row_id desc
        ) as rank_among_valid

    from readings_to_rank

),

final as (

    select
        {%- for column in reading_columns %}
        {{ column }},
        {%- endfor %}
        rule_failed,
        coalesce(rule_failed, case when rank_among_valid > 1 then 'duplicate' end) as rejection_reason,
        rule_failed is null and rank_among_valid = 1 as is_valid

    from ranked_among_valid

)

select * from final
