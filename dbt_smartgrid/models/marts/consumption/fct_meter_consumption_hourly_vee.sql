{{ config(materialized='view', meta={'gx_window': true}) }}

{#- The contract §4 hourly mart after VEE: the same rows, with each hour's energy split into what was measured,
    what was interpolated over short gaps (code 9) and what the like-day method estimated over long gaps
    (code 8). Raw readings and fct_meter_consumption_hourly are never changed.

    A view: a meter-hour is fct_meter_consumption_hourly's row, adjusted where fct_meter_hour_vee_adjustments has
    one (a long gap or a negative interval touches the hour); every other hour is the hourly mart's as it is.
    So nothing is rebuilt here: when late readings fill a gap, both tables are rebuilt and the estimate gives way
    to the measured energy. Read it through hour_start or meter_id: both tables have an index led by each.
    loaded_through is the later of the two rows' (an incremental model downstream looks up each table's rows
    loaded since its watermark through their own loaded_through index, not this column). -#}

with

meter_hours as not materialized (

    select * from {{ ref('fct_meter_consumption_hourly') }}

),

adjustments as not materialized (

    select * from {{ ref('fct_meter_hour_vee_adjustments') }}

),

final as (

    select
        meter_hours.meter_id,
        meter_hours.customer_id,
        meter_hours.hour_start,

        (meter_hours.consumption_kwh - meter_hours.estimated_kwh)::numeric(20, 9) as measured_kwh,
        (meter_hours.estimated_kwh
            - coalesce(adjustments.long_gap_linear_kwh, 0))::numeric(20, 9) as interpolated_kwh,
        adjustments.like_day_kwh,
        coalesce(adjustments.unestimated_gap_kwh, 0)::numeric(20, 9) as unestimated_gap_kwh,
        (meter_hours.consumption_kwh
            - coalesce(adjustments.long_gap_linear_kwh, 0)
            + coalesce(adjustments.like_day_kwh, 0)
            + coalesce(adjustments.unestimated_gap_kwh, 0))::numeric(20, 9) as vee_kwh,
        meter_hours.reading_count,

        case
            when adjustments.is_questionable then 10
            when adjustments.like_day_kwh is not null then 8
            else meter_hours.quality_code
        end as vee_quality_code,

        adjustments.like_day_reference_days,
        greatest(meter_hours.loaded_through, adjustments.loaded_through) as loaded_through

    from meter_hours

    left join adjustments
        on meter_hours.meter_id = adjustments.meter_id
        and meter_hours.hour_start = adjustments.hour_start

)

select * from final
