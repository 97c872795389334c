{{
    config(
        materialized='incremental',
        incremental_strategy='smartgrid_delete_insert',
        meta={'distribution_column': 'meter_id', 'gx_window': false},
        unique_key=['meter_id', 'hour_start'],
        time_key='hour_start',
        inserted_rows_where='is_questionable or like_day_kwh is not null',
        post_hook="{{ record_watermark(ref('fct_meter_consumption_hourly')) }}",
        indexes=[
            {'columns': ['meter_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
            {'columns': ['loaded_through']},
        ],
    )
}}

{#- What VEE changes in an hour of fct_meter_consumption_hourly (contract §4), for the few meter-hours it changes:
    those with a part of a long gap (replaced by its like-day estimate, code 8, or left as the linear spread and
    questionable when the gap has none) or of a negative interval (questionable, code 10). Every other meter-hour
    is taken as it is, so the VEE mart, fct_meter_consumption_hourly_vee, is a view of the hourly mart joined to
    this table, and an hour's meter rows are not written a second time (issue 17: the VEE mart rewrote all
    200,456 meter-hours of an hour, 5.8 s behind a day, for the few it changes). A table in the marts schema, so
    a failed build restores it with the hourly mart (orchestration/steps/mart_backup.py).

    The hourly mart's quality_code is 10 exactly when such a part touches the hour. Incremental runs rebuild the
    meter-hours rebuilt in fct_meter_consumption_hourly since the table's watermark (which it records, as it may
    have no row at all: macros/incremental_watermark.sql) that are questionable now or had a row here (a late
    reading that fills a gap: the batch row is empty, so the old row is deleted and none inserted, see
    inserted_rows_where), and the hours of the long gaps that may take a changed day as a like-day reference.
    Each gap's estimate is looked up on its own (`offset 0` keeps the subquery apart, so meter and gap reach into
    the estimate views). -#}

-- depends_on: {{ ref('int_meter_long_gaps') }}

with

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

interval_hours as not materialized (

    select * from {{ ref('int_meter_interval_hours') }}

),

{% if is_incremental() %}
changed_meter_hours as (

    select
        meter_id,
        hour_start,
        quality_code

    from meter_hours

    where loaded_through > {{ incremental_watermark() }}

),

gaps_referencing_changed_days as (

    -- a long gap may take a changed day as a like-day reference: every gap starting after the day and within
    -- like_day_max_weeks_back weeks of it (local days lie within a day of UTC days)

    select distinct
        long_gaps.meter_id,
        long_gaps.ended_at

    from (
        select distinct
            meter_id,
            date_trunc('day', hour_start, 'UTC') as day_start
        from changed_meter_hours
    ) as changed_days

    inner join {{ ref('int_meter_long_gaps') }} as long_gaps
        on changed_days.meter_id = long_gaps.meter_id
        and changed_days.day_start <= long_gaps.started_at
        and changed_days.day_start + interval '{{ 7 * var("like_day_max_weeks_back") + 2 }} days'
        > long_gaps.started_at

),

meter_hours_to_rebuild as (

    select
        meter_id,
        hour_start

    from changed_meter_hours

    where quality_code = 10
        or exists (
            select
            from {{ this }} as adjusted
            where adjusted.meter_id = changed_meter_hours.meter_id
                and adjusted.hour_start = changed_meter_hours.hour_start
        )

    union

    select
        interval_hours.meter_id,
        interval_hours.hour_start

    from gaps_referencing_changed_days

    inner join interval_hours
        on gaps_referencing_changed_days.meter_id = interval_hours.meter_id
        and gaps_referencing_changed_days.ended_at = interval_hours.ended_at

),
{% else %}
meter_hours_to_rebuild as (

    select
        meter_id,
        hour_start

    from meter_hours

    where quality_code = 10

),
{% endif %}

irregular_parts as (

    select
        interval_hours.meter_id,
        interval_hours.ended_at,
        interval_hours.hour_start,
        interval_hours.interval_kind,
        interval_hours.is_negative,
        interval_hours.energy_kwh as linear_kwh

    from meter_hours_to_rebuild

    inner join interval_hours
        on meter_hours_to_rebuild.meter_id = interval_hours.meter_id
        and meter_hours_to_rebuild.hour_start = interval_hours.hour_start

    where interval_hours.interval_kind = 'long_gap'
        or interval_hours.is_negative

),

estimates_of_gaps_in_rebuilt_hours as (

    select estimate.*

    from (
        select distinct
            meter_id,
            ended_at
        from irregular_parts
        where interval_kind = 'long_gap' and not is_negative
    ) as gaps

    cross join lateral (
        select like_day_estimates.*
        from {{ ref('int_meter_like_day_estimates') }} as like_day_estimates
        where like_day_estimates.meter_id = gaps.meter_id
            and like_day_estimates.gap_ended_at = gaps.ended_at
        offset 0  -- noqa: AM09
    ) as estimate

),

estimates_by_hour as (

    select
        irregular_parts.meter_id,
        irregular_parts.hour_start,

        coalesce(sum(irregular_parts.linear_kwh) filter (
            where irregular_parts.interval_kind = 'long_gap'
        ), 0) as long_gap_linear_kwh,
        sum(estimates.like_day_kwh) as like_day_kwh,
        coalesce(sum(irregular_parts.linear_kwh) filter (
            where irregular_parts.interval_kind = 'long_gap' and estimates.like_day_kwh is null
        ), 0) as unestimated_gap_kwh,
        bool_or(irregular_parts.is_negative
            or (irregular_parts.interval_kind = 'long_gap' and estimates.like_day_kwh is null)) as is_questionable,
        string_agg(distinct estimates.reference_days, ',') as like_day_reference_days

    from irregular_parts

    left join estimates_of_gaps_in_rebuilt_hours as estimates
        on irregular_parts.meter_id = estimates.meter_id
        and irregular_parts.ended_at = estimates.gap_ended_at
        and irregular_parts.hour_start = estimates.hour_start

    group by 1, 2

),

final as (

    -- one row per meter-hour rebuilt; those without an irregular part have only nulls here and are not kept
    select
        meter_hours_to_rebuild.meter_id,
        meter_hours_to_rebuild.hour_start,
        estimates_by_hour.long_gap_linear_kwh::numeric(20, 9) as long_gap_linear_kwh,
        estimates_by_hour.like_day_kwh::numeric(20, 9) as like_day_kwh,
        estimates_by_hour.unestimated_gap_kwh::numeric(20, 9) as unestimated_gap_kwh,
        estimates_by_hour.is_questionable,
        estimates_by_hour.like_day_reference_days,
        (select max(all_meter_hours.loaded_through) from meter_hours as all_meter_hours) as loaded_through

    from meter_hours_to_rebuild

    left join estimates_by_hour
        on meter_hours_to_rebuild.meter_id = estimates_by_hour.meter_id
        and meter_hours_to_rebuild.hour_start = estimates_by_hour.hour_start

)

select * from final
