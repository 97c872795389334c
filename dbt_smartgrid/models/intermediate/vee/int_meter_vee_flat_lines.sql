{#- VEE rule flat_line: zero measured intervals in runs of at least vee_flat_line_intervals on an active meter
    (int_meter_interval_day_checks says how runs are judged), per meter and local day they start in. -#}

with

day_checks as not materialized (

    select * from {{ ref('int_meter_interval_day_checks') }}

),

flat_lines as (

    select
        meter_id,
        day,
        'flat_line' as reason_code,
        flat_line_intervals as exception_count,
        flat_line_longest_run as observed_value,
        {{ var('vee_flat_line_intervals') }} as threshold,
        flat_line_first_at as first_at,
        flat_line_last_at as last_at

    from day_checks

    where flat_line_intervals > 0

),

final as (

    select
        {{ vee_exception_columns() }}

    from flat_lines

)

select * from final
