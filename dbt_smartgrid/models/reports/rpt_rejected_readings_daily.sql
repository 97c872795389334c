{#- The grid report's "rejected rows by reason per day", by the local day (var local_time_zone) the rejected
    reading was measured. -#}

with

rejected as (

    select * from {{ ref('rejected_readings') }}

),

final as (

    select
        (hour_start at time zone '{{ var("local_time_zone") }}')::date as day,
        source_table,
        reason_code,
        count(*)::integer as rejected_rows

    from rejected

    group by 1, 2, 3

)

select * from final
