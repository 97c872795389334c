{#- The contract §3 duplicate rule, shared by both validated-readings models: among the valid rows of one
    duplicate key, the latest arrival (then the highest source row) wins; the others are `duplicate`.

    `checked_rows` names a CTE of the newly loaded rows with `columns` and their `rule_failed`. Incremental
    runs re-rank them together with the rows already in `this` that share their key; the model's
    replaced_rows_where then replaces only those earlier rows. Earlier rows are looked up key by key through
    the key's index of `this`, only for new rows not after the latest time already here (a new hour has none):
    the look-up reads as many rows as late or resent rows bring (`offset 0` keeps it a look-up). A join on the
    keys alone chose a pass over all of history; a join on the time range from the new rows' earliest time could
    read every row of the hours late rows reach (with fresh statistics, the whole previous hour for 0.5 % of it
    late; docs/scaling.md). Returns the ranked
    rows: `columns`, rule_failed, rejection_reason and is_valid. -#}
{% macro rank_duplicate_readings(checked_rows, key_columns, columns) -%}
    {%- set time_column = key_columns[-1] %}
    with

    {% if is_incremental() %}
    earlier_rows_with_same_key as (

        select
            {%- for column in columns %}
            earlier.{{ column }},
            {%- endfor %}
            earlier.rule_failed

        from (
            select distinct {{ key_columns | join(', ') }}
            from {{ checked_rows }}
            where {{ time_column }} <= (select max({{ time_column }}) from {{ this }})
        ) as new_keys

        cross join lateral (
            select *
            from {{ this }} as earlier_row
            where {% for key in key_columns -%}
                {{ 'and ' if not loop.first }}earlier_row.{{ key }} = new_keys.{{ key }}
                {% endfor %}
            offset 0  -- noqa: AM09
        ) as earlier

    ),
    {% endif %}

    rows_to_rank as (

        select * from {{ checked_rows }}
        {% if is_incremental() %}
        union all
        select * from earlier_rows_with_same_key
        {% endif %}

    ),

    ranked_among_valid as (

        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}, rule_failed is null
                order by arrived_at desc, source_row_id desc
            ) as rank_among_valid

        from rows_to_rank

    )

    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        rule_failed,
        coalesce(rule_failed, case when rank_among_valid > 1 then 'duplicate' end) as rejection_reason,
        rule_failed is null and rank_among_valid = 1 as is_valid

    from ranked_among_valid
{%- endmacro %}
