{#- The grid report's "run durations per step". -#}

with

run_steps as (

    select * from {{ source('run_audit', 'run_steps') }}

),

final as (

    select
        run_id,
        window_start,
        window_end,
        recorded_at,
        step,
        seconds

    from run_steps

)

select * from final
