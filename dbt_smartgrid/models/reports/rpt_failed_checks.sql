{#- The grid report's "failed checks": every check a run failed, newest first in the report. -#}

with

run_results as (

    select * from {{ source('run_audit', 'dq_run_results') }}

),

final as (

    select
        run_id,
        window_start,
        window_end,
        checked_at,
        severity,
        check_source,
        check_name,
        checked_object,
        observed_value,
        threshold

    from run_results

    where not success

)

select * from final
