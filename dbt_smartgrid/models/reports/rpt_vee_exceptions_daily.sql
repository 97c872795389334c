{#- The grid report's "VEE exceptions by rule per day". -#}

with

exceptions as (

    select * from {{ ref('meter_vee_exceptions') }}

),

final as (

    select
        day,
        reason_code,
        count(distinct meter_id)::integer as meters_failing,
        sum(exception_count)::integer as exception_count

    from exceptions

    group by 1, 2

)

select * from final
