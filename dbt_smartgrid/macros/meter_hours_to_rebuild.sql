{#- The meter-hours fct_meter_consumption_hourly rebuilds: `changed_meter_hours` (those that received a rebuilt
    interval part), and in an incremental run also every hour already in `this` of a meter whose latest
    valid reading (`latest_customer`: meter_id, customer_id) names another customer than its newest row here,
    because every row of a meter carries the customer of its latest reading. -#}
{% macro meter_hours_to_rebuild(changed_meter_hours, latest_customer) -%}
    select * from {{ changed_meter_hours }}
    {%- if is_incremental() %}

    union

    select
        existing.meter_id,
        existing.hour_start

    from {{ latest_customer }}

    cross join lateral (
        select newest.customer_id
        from {{ this }} as newest
        where newest.meter_id = {{ latest_customer }}.meter_id
        order by newest.hour_start desc
        limit 1
    ) as newest_row

    inner join {{ this }} as existing
        on {{ latest_customer }}.meter_id = existing.meter_id

    where newest_row.customer_id <> {{ latest_customer }}.customer_id
    {%- endif %}
{%- endmacro %}
