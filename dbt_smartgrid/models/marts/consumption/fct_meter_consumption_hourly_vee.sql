{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['meter_id', 'hour_start'],
        indexes=[
            {'columns': ['meter_id', 'hour_start'], 'unique': True},
            {'columns': ['hour_start']},
        ],
    )
}}

{#- The SPEC §4 hourly mart after VEE: the same rows, with the energy split into what was measured, what was
    interpolated over short gaps (≤ max_interpolated_gap_hours, code 9) and what was estimated over long gaps
    by the like-day method (code 8). Raw readings and the SPEC mart are never changed.

    Like-day estimate of a long gap (t0, r0) -> (t1, r1), r1 >= r0: the same window shifted back by whole
    weeks (168 h, so the same UTC weekday and hours) is a candidate when every UTC day it touches has 24
    all-measured hours (SPEC quality_code 0); the nearest like_day_reference_days candidates within
    like_day_max_weeks_back weeks are averaged hour by hour, each hour weighted by the share of it inside the
    gap, and scaled so that the gap's hours add up to r1 - r0 exactly (differences of the rounded cumulative
    share, like the SPEC mart's split). A gap without a candidate (or with an all-zero profile) keeps the
    linear spread and stays questionable (code 10).

    Incremental runs: an estimate depends on its gap and on the reference days up to like_day_max_weeks_back
    weeks earlier. So the meter-days whose SPEC hours were rebuilt since the last run are rebuilt, with the
    same weekday of the following weeks (days those could serve as reference for) and every day of a long
    gap touching one of them. When late readings fill a gap, its hours are rebuilt in the SPEC mart, so
    the estimate is replaced by the measured energy here. -#}

with

meter_hours as (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

meter_intervals as (

    select * from {{ ref('int_meter_intervals') }}

),

{% if is_incremental() %}

changed_meter_days as (

    select distinct
        meter_id,
        (hour_start at time zone 'UTC')::date as day

    from meter_hours

    where loaded_through > {{ incremental_watermark() }}

),

days_with_changed_inputs as (

    select distinct
        changed_meter_days.meter_id,
        changed_meter_days.day + 7 * weeks_later.n as day

    from changed_meter_days

    cross join generate_series(0, {{ var('like_day_max_weeks_back') }}) as weeks_later (n)

),

days_of_long_gaps_touching_them as (

    select distinct
        meter_intervals.meter_id,
        gap_days.day::date as day

    from meter_intervals

    cross join lateral generate_series(
        (meter_intervals.started_at at time zone 'UTC')::date::timestamp,
        ((meter_intervals.ended_at - interval '1 microsecond') at time zone 'UTC')::date::timestamp,
        interval '1 day'
    ) as gap_days (day)

    where meter_intervals.interval_kind = 'long_gap'
        and exists (
            select 1
            from days_with_changed_inputs
            where days_with_changed_inputs.meter_id = meter_intervals.meter_id
                and days_with_changed_inputs.day
                    between (meter_intervals.started_at at time zone 'UTC')::date
                    and ((meter_intervals.ended_at - interval '1 microsecond') at time zone 'UTC')::date
        )

),

days_to_rebuild as (

    select
        meter_id,
        day
    from days_with_changed_inputs

    union

    select
        meter_id,
        day
    from days_of_long_gaps_touching_them

),

{% endif %}

hours_in_scope as (

    select meter_hours.*

    from meter_hours

    {% if is_incremental() %}
    inner join days_to_rebuild
        on meter_hours.meter_id = days_to_rebuild.meter_id
        and (meter_hours.hour_start at time zone 'UTC')::date = days_to_rebuild.day
    {% endif %}

),

irregular_intervals as (

    select
        *,
        extract(epoch from ended_at - started_at) as duration_seconds

    from meter_intervals

    where (interval_kind = 'long_gap' or is_negative)
    {% if is_incremental() %}
        and exists (
            select 1
            from days_to_rebuild
            where days_to_rebuild.meter_id = meter_intervals.meter_id
                and days_to_rebuild.day
                    between (meter_intervals.started_at at time zone 'UTC')::date
                    and ((meter_intervals.ended_at - interval '1 microsecond') at time zone 'UTC')::date
        )
    {% endif %}

),

irregular_parts_by_hour as (

    {{ split_by_clock_hour('irregular_intervals') }}

),

irregular_parts_with_linear_energy as (

    {#- the same register interpolation as the SPEC mart (one macro), so the parts equal its linear spread -#}
    select
        *,

        case
            when is_negative then 0
            else {{ interpolated_register_kwh('part_ended_at') }}
                - {{ interpolated_register_kwh('part_started_at') }}
        end as linear_kwh

    from irregular_parts_by_hour

),

estimable_gaps as (

    select * from irregular_intervals

    where interval_kind = 'long_gap'
        and not is_negative

),

candidate_reference_days as (

    select
        estimable_gaps.meter_id,
        estimable_gaps.ended_at as gap_ended_at,
        weeks_back.n as weeks_back,
        reference_days.day::date as day

    from estimable_gaps

    cross join generate_series(1, {{ var('like_day_max_weeks_back') }}) as weeks_back (n)

    cross join lateral generate_series(
        ((estimable_gaps.started_at - weeks_back.n * interval '168 hours') at time zone 'UTC')::date::timestamp,
        ((estimable_gaps.ended_at - interval '1 microsecond' - weeks_back.n * interval '168 hours')
            at time zone 'UTC')::date::timestamp,
        interval '1 day'
    ) as reference_days (day)

),

candidate_day_quality as (

    select
        candidate_days.meter_id,
        candidate_days.day,
        count(meter_hours.hour_start) filter (where meter_hours.quality_code = 0) as measured_hours

    from (
        select distinct
            meter_id,
            day
        from candidate_reference_days
    ) as candidate_days

    left join meter_hours
        on candidate_days.meter_id = meter_hours.meter_id
        and meter_hours.hour_start >= candidate_days.day::timestamp at time zone 'UTC'
        and meter_hours.hour_start < (candidate_days.day + 1)::timestamp at time zone 'UTC'

    group by 1, 2

),

eligible_reference_weeks as (

    select
        candidate_reference_days.meter_id,
        candidate_reference_days.gap_ended_at,
        candidate_reference_days.weeks_back,

        row_number() over (
            partition by candidate_reference_days.meter_id, candidate_reference_days.gap_ended_at
            order by candidate_reference_days.weeks_back
        ) as nearness

    from candidate_reference_days

    inner join candidate_day_quality
        on candidate_reference_days.meter_id = candidate_day_quality.meter_id
        and candidate_reference_days.day = candidate_day_quality.day

    group by 1, 2, 3

    having bool_and(candidate_day_quality.measured_hours = 24)

),

chosen_reference_weeks as (

    select * from eligible_reference_weeks

    where nearness <= {{ var('like_day_reference_days') }}

),

gap_part_weights as (

    select
        gap_parts.meter_id,
        gap_parts.ended_at as gap_ended_at,
        gap_parts.hour_start,
        gap_parts.delta_kwh,

        avg(reference_hours.consumption_kwh)
            * extract(epoch from gap_parts.part_ended_at - gap_parts.part_started_at) / 3600 as weight,
        string_agg(
            to_char(reference_hours.hour_start at time zone 'UTC', 'YYYY-MM-DD'), ','
            order by chosen_reference_weeks.weeks_back
        ) as reference_days

    from irregular_parts_with_linear_energy as gap_parts

    inner join chosen_reference_weeks
        on gap_parts.meter_id = chosen_reference_weeks.meter_id
        and gap_parts.ended_at = chosen_reference_weeks.gap_ended_at

    inner join meter_hours as reference_hours
        on gap_parts.meter_id = reference_hours.meter_id
        and reference_hours.hour_start
            = gap_parts.hour_start - chosen_reference_weeks.weeks_back * interval '168 hours'

    where gap_parts.interval_kind = 'long_gap'
        and not gap_parts.is_negative

    group by 1, 2, 3, 4, gap_parts.part_started_at, gap_parts.part_ended_at

),

gap_part_cumulative_weights as (

    select
        *,
        sum(weight) over (partition by meter_id, gap_ended_at order by hour_start) as weight_through_hour,
        sum(weight) over (partition by meter_id, gap_ended_at) as gap_weight

    from gap_part_weights

),

like_day_parts as (

    select
        meter_id,
        gap_ended_at,
        hour_start,
        reference_days,

        round(delta_kwh * weight_through_hour / gap_weight, 9)
            - round(delta_kwh * (weight_through_hour - weight) / gap_weight, 9) as like_day_kwh

    from gap_part_cumulative_weights

    where gap_weight > 0

),

irregular_parts_estimated as (

    select
        irregular_parts_with_linear_energy.meter_id,
        irregular_parts_with_linear_energy.hour_start,
        irregular_parts_with_linear_energy.interval_kind,
        irregular_parts_with_linear_energy.is_negative,
        irregular_parts_with_linear_energy.linear_kwh,
        like_day_parts.like_day_kwh,
        like_day_parts.reference_days

    from irregular_parts_with_linear_energy

    left join like_day_parts
        on irregular_parts_with_linear_energy.meter_id = like_day_parts.meter_id
        and irregular_parts_with_linear_energy.ended_at = like_day_parts.gap_ended_at
        and irregular_parts_with_linear_energy.hour_start = like_day_parts.hour_start

),

estimates_by_hour as (

    select
        meter_id,
        hour_start,

        sum(linear_kwh) filter (where interval_kind = 'long_gap') as long_gap_linear_kwh,
        sum(like_day_kwh) as like_day_kwh,
        sum(linear_kwh) filter (
            where interval_kind = 'long_gap' and like_day_kwh is null
        ) as unestimated_gap_kwh,
        bool_or(is_negative or (interval_kind = 'long_gap' and like_day_kwh is null)) as is_questionable,
        string_agg(distinct reference_days, ',') as like_day_reference_days

    from irregular_parts_estimated

    group by 1, 2

),

final as (

    select
        hours_in_scope.meter_id,
        hours_in_scope.customer_id,
        hours_in_scope.hour_start,

        (hours_in_scope.consumption_kwh - hours_in_scope.estimated_kwh)::numeric(20, 9) as measured_kwh,
        (hours_in_scope.estimated_kwh
            - coalesce(estimates_by_hour.long_gap_linear_kwh, 0))::numeric(20, 9) as interpolated_kwh,
        estimates_by_hour.like_day_kwh::numeric(20, 9) as like_day_kwh,
        coalesce(estimates_by_hour.unestimated_gap_kwh, 0)::numeric(20, 9) as unestimated_gap_kwh,
        (hours_in_scope.consumption_kwh
            - coalesce(estimates_by_hour.long_gap_linear_kwh, 0)
            + coalesce(estimates_by_hour.like_day_kwh, 0)
            + coalesce(estimates_by_hour.unestimated_gap_kwh, 0))::numeric(20, 9) as vee_kwh,
        hours_in_scope.reading_count,

        case
            when estimates_by_hour.is_questionable then 10
            when estimates_by_hour.like_day_kwh is not null then 8
            else hours_in_scope.quality_code
        end as vee_quality_code,

        estimates_by_hour.like_day_reference_days,
        (select max(meter_hours.loaded_through) from meter_hours) as loaded_through

    from hours_in_scope

    left join estimates_by_hour
        on hours_in_scope.meter_id = estimates_by_hour.meter_id
        and hours_in_scope.hour_start = estimates_by_hour.hour_start

)

select * from final
