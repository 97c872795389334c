{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'ended_at'],
        indexes=[
            {'columns': ['meter_id', 'ended_at']},
            {'columns': ['meter_id', 'hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- The one place where register intervals are split at the clock hours (contract §4): one row per interval
    and UTC hour it overlaps, with the part of the interval's energy that falls in that hour.

    The energy of an interval (t0, r0) -> (t1, r1) is spread uniformly over [t0, t1); a part's energy is the
    difference of the register interpolated at its two ends, rounded to 9 decimals, so the parts of an
    interval add up to r1 - r0 exactly. A negative interval (register reset, meter exchange) counts no energy.

    Incremental runs split exactly the intervals rebuilt since the last run, replacing their earlier parts. -#}

with

intervals as (

    select
        *,
        extract(epoch from ended_at - started_at) as duration_seconds

    from {{ ref('int_meter_intervals') }}

    {% if is_incremental() %}
    where loaded_through > {{ incremental_watermark() }}
    {% endif %}

),

parts as (

    {{ split_by_clock_hour('intervals') }}

),

parts_with_energy as (

    select
        meter_id,
        started_at,
        ended_at,
        hour_start,
        part_started_at,
        part_ended_at,
        interval_kind,
        is_negative,
        delta_kwh,

        case
            when is_negative then 0
            else {{ interpolated_register_kwh('part_ended_at') }} - {{ interpolated_register_kwh('part_started_at') }}
        end::numeric(20, 9) as energy_kwh,

        loaded_through

    from parts

)

select * from parts_with_energy
