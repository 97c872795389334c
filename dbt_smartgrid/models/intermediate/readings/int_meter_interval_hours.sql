{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id'},
        unique_key=['meter_id', 'ended_at'],
        time_key='ended_at',
        indexes=[
            {'columns': ['hour_start', 'meter_id']},
            {'columns': ['loaded_through']},
        ],
        post_hook=[
            "create index if not exists {{ this.identifier }}_ended_at_idx on {{ this }} (ended_at, meter_id)",
            "create index if not exists {{ this.identifier }}_irregular_idx on {{ this }} (hour_start, meter_id)
                where interval_kind = 'long_gap' or is_negative",
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

    select
        intervals.*,
        hours.hour_start,
        greatest(intervals.started_at, hours.hour_start) as part_started_at,
        least(intervals.ended_at, hours.hour_start + interval '1 hour') as part_ended_at

    from intervals

    cross join lateral generate_series(
        date_trunc('hour', intervals.started_at, 'UTC'),
        intervals.ended_at - interval '1 microsecond',
        interval '1 hour'
    ) as hours (hour_start)

),

register_at_part_ends as (

    -- the register interpolated linearly at both ends of each part, rounded to 9 decimals; a boundary inside an
    -- interval is computed the same way for the parts on both sides of it, so the parts add up to the delta
    select
        *,
        case
            when part_started_at = started_at then start_kwh
            else round(
                start_kwh
                + (end_kwh - start_kwh) * extract(epoch from part_started_at - started_at) / duration_seconds,
                9
            )
        end as register_at_part_start_kwh,
        case
            when part_ended_at = ended_at then end_kwh
            else round(
                start_kwh
                + (end_kwh - start_kwh) * extract(epoch from part_ended_at - started_at) / duration_seconds,
                9
            )
        end as register_at_part_end_kwh

    from parts

),

parts_with_energy as (

    select
        meter_id,
        customer_id,
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
            else register_at_part_end_kwh - register_at_part_start_kwh
        end::numeric(20, 9) as energy_kwh,

        loaded_through

    from register_at_part_ends

)

select * from parts_with_energy
