{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        meta={'distribution_column': 'sensor_id'},
        unique_key=['sensor_id', 'sensor_type', 'measured_at'],
        replaced_rows_where='loaded_at <= (select max(loaded_at) from __target__)',
        indexes=[
            {'columns': ['sensor_id', 'sensor_type', 'measured_at']},
            {'columns': ['loaded_at']},
        ],
    )
}}

{#- Every raw sensor row with the first contract §3 rule it fails.

    Incremental runs do work in proportion to the rows loaded since the last run: they check the new rows,
    and re-rank them together with the rows already here that share their duplicate key (sensor_id,
    sensor_type, measured_at), found through the index on that key. Only those earlier rows are replaced;
    raw's unique event_id keeps each row here once. -#}

{#- the raw row's columns this model keeps; the new rows and the earlier rows they are re-ranked with share them -#}
{%- set reading_columns = [
    'source_row_id', 'event_id', 'sensor_id', 'sensor_type', 'value', 'measured_at', 'hour_start',
    'arrived_at', 'loaded_at'
] %}

with

new_readings as not materialized (

    select * from {{ ref('stg_ops__sensor_readings') }}

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
            when sensor_type not in ('voltage', 'current', 'power', 'frequency')
                then 'unknown_sensor_type'
            when value = 'NaN'
                then 'not_a_number'
            {%- for sensor_type, bounds in var('sensor_ranges').items() %}
            when sensor_type = '{{ sensor_type }}'
                and value not between {{ bounds[0] }} and {{ bounds[1] }}
                then 'out_of_range'
            {%- endfor %}
            when {{ implausible_timestamp('measured_at') }}
                then 'implausible_timestamp'
            when measured_at
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
            sensor_id,
            sensor_type,
            measured_at
        from new_readings_checked
    ) as new_keys
        on earlier.sensor_id = new_keys.sensor_id
        and earlier.sensor_type = new_keys.sensor_type
        and earlier.measured_at = new_keys.measured_at

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
            partition by sensor_id, sensor_type, measured_at, rule_failed is null
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
