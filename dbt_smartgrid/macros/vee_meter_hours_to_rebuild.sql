{#- The meter-hours fct_meter_consumption_hourly_vee rebuilds: all of `meter_hours` (fct_meter_consumption_hourly)
    in a full build. In an incremental run, the meter-hours whose row there was rebuilt, and every hour of a
    long gap (int_meter_long_gaps) that may use a rebuilt day as a like-day reference: a gap ending more than
    7 days after the day and starting before like_day_max_weeks_back weeks after it. -#}
{% macro vee_meter_hours_to_rebuild(meter_hours, interval_hours) -%}
    {%- if is_incremental() %}
    with

    changed_meter_hours as (

        select
            meter_id,
            hour_start

        from {{ meter_hours }}

        where loaded_through > {{ incremental_watermark() }}

    ),

    gaps_referencing_changed_days as (

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
            and long_gaps.ended_at > changed_days.day_start + interval '7 days'
            and long_gaps.started_at
                < changed_days.day_start + interval '{{ 7 * var("like_day_max_weeks_back") + 1 }} days'

    )

    select * from changed_meter_hours

    union

    select
        {{ interval_hours }}.meter_id,
        {{ interval_hours }}.hour_start

    from gaps_referencing_changed_days

    inner join {{ interval_hours }}
        on gaps_referencing_changed_days.meter_id = {{ interval_hours }}.meter_id
        and gaps_referencing_changed_days.ended_at = {{ interval_hours }}.ended_at
    {%- else %}
    select
        meter_id,
        hour_start

    from {{ meter_hours }}
    {%- endif %}
{%- endmacro %}
