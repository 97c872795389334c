{#- The grid report's "data-quality score per run". -#}

with

run_scores as (

    select * from {{ source('run_audit', 'dq_run_scores') }}

),

final as (

    select
        run_id,
        window_start,
        window_end,
        checked_at,
        run_score,
        checks::integer as checks,
        failed_critical::integer as failed_critical,
        failed_warning::integer as failed_warning

    from run_scores

)

select * from final
