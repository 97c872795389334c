{#- The valid readings int_meter_intervals pairs: all of them in a full build. In an incremental run, a reading
    loaded since the last run changes the interval that ends at it and the one that ends at its successor;
    so for each meter with new rows, its valid readings from the one before its earliest new reading to the
    one after its latest new reading. The neighbouring readings are index look-ups per meter, never a scan of
    a meter's history. Valid reading times are never withdrawn (a later duplicate replaces a reading at the
    same time), so no old interval is left behind. -#}
{% macro valid_meter_readings_to_pair(meter_readings) -%}
    {%- if is_incremental() %}
    with

    meters_with_new_rows as (

        select
            meter_id,
            min(reading_at) as changed_from,
            max(reading_at) as changed_to

        from {{ meter_readings }}

        where loaded_at > {{ incremental_watermark() }}
            and is_valid  -- an invalid new row changes no valid reading; a new winner of a duplicate key is valid

        group by 1

    ),

    spans_to_rebuild as materialized (

        select
            meters_with_new_rows.meter_id,
            coalesce(previous_reading.reading_at, meters_with_new_rows.changed_from) as readings_from,
            coalesce(next_reading.reading_at, meters_with_new_rows.changed_to) as readings_to

        from meters_with_new_rows

        left join lateral (
            select {{ meter_readings }}.reading_at
            from {{ meter_readings }}
            where {{ meter_readings }}.meter_id = meters_with_new_rows.meter_id
                and {{ meter_readings }}.reading_at < meters_with_new_rows.changed_from
                and {{ meter_readings }}.is_valid
            order by {{ meter_readings }}.reading_at desc
            limit 1
        ) as previous_reading on true

        left join lateral (
            select {{ meter_readings }}.reading_at
            from {{ meter_readings }}
            where {{ meter_readings }}.meter_id = meters_with_new_rows.meter_id
                and {{ meter_readings }}.reading_at > meters_with_new_rows.changed_to
                and {{ meter_readings }}.is_valid
            order by {{ meter_readings }}.reading_at
            limit 1
        ) as next_reading on true

    )

    select {{ meter_readings }}.*

    from spans_to_rebuild

    inner join {{ meter_readings }}
        on spans_to_rebuild.meter_id = {{ meter_readings }}.meter_id
        and {{ meter_readings }}.reading_at
            between spans_to_rebuild.readings_from and spans_to_rebuild.readings_to

    where {{ meter_readings }}.is_valid
    {%- else %}
    select * from {{ meter_readings }} where is_valid
    {%- endif %}
{%- endmacro %}
