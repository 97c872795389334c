{#- The grid report's "rejected rows by reason per day", by the local day (var local_time_zone) the rejected
    reading was measured; inside the report's window when the session names one. -#}

with

rejected as (

    select * from {{ ref('rejected_readings') }}
    -- the report's window when the session names one (as rpt_meter_data_quality_daily): read through the partial
    -- index of the rejected rows by hour; unset, every rejected row
    where
        hour_start >= coalesce(nullif(current_setting('smartgrid.report_start', true), ''), '-infinity')::timestamptz
        and hour_start < coalesce(nullif(current_setting('smartgrid.report_end', true), ''), 'infinity')::timestamptz

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
