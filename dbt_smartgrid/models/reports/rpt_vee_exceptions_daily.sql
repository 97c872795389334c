{#- The grid report's "VEE exceptions by rule per day", by local day (var local_time_zone), as the exceptions
    are (audit.meter_vee_exceptions). -#}

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
