{#- The edit loop's audit (README, "Edit a model"): save a model's rows before you change it, rebuild it,
    then list the rows that differ, keyed by the model's grain.

        make compare-save MODEL=fct_sensor_hourly   ->  run-operation save_for_compare
        make compare MODEL=fct_sensor_hourly        ->  run-operation compare_with_saved

    The comparison is `except` both ways over the columns the two versions share, so it is exact (numeric
    values compare as numbers: 1.50 = 1.5). Keys present in both versions with different values are
    `changed`, the others `added` or `removed`. Every differing row lands in `compare.<model>__changes`
    (both versions of a changed row), and each changed value in `compare.<model>__changed_values`. -#}

{% macro save_for_compare(model_name, compare_schema='compare') %}
    {%- set node = _compare_model_node(model_name) -%}
    {%- set current = _compare_relation(node) -%}
    {%- set saved = compare_schema ~ '.' ~ adapter.quote(model_name) -%}
    {%- if current is none -%}
        {{ exceptions.raise_compiler_error(
            model_name ~ " is not built in this database yet: run `make dbt ARGS=\"build --select "
            ~ model_name ~ "\"` first") }}
    {%- endif -%}
    {%- call statement('save', fetch_result=False) -%}
        create schema if not exists {{ compare_schema }};
        drop table if exists {{ saved }};
        create table {{ saved }} as select * from {{ current }}
    {%- endcall -%}
    {%- set rows = run_query('select count(*) from ' ~ saved).columns[0].values()[0] -%}
    {%- do adapter.commit() -%}
    {{ print("saved " ~ rows ~ " rows of " ~ current ~ " as " ~ saved
        ~ "; change the model, rebuild it, then: make compare MODEL=" ~ model_name) }}
{% endmacro %}


{% macro compare_with_saved(model_name, key_columns=none, ignore_columns=['loaded_through'],
                            compare_schema='compare', limit=40) %}
    {%- set node = _compare_model_node(model_name) -%}
    {%- set current = _compare_relation(node) -%}
    {%- set saved = adapter.get_relation(database=target.database, schema=compare_schema, identifier=model_name) -%}
    {%- if saved is none or current is none -%}
        {{ exceptions.raise_compiler_error(
            "nothing to compare: run `make compare-save MODEL=" ~ model_name
            ~ "` before the change (and build the model)") }}
    {%- endif -%}
    {%- set keys = key_columns or _compare_grain(node) -%}
    {%- set saved_names = adapter.get_columns_in_relation(saved) | map(attribute='name') | list -%}
    {%- set current_names = adapter.get_columns_in_relation(current) | map(attribute='name') | list -%}
    {%- set columns = [] -%}
    {%- for name in current_names if name in saved_names and name not in ignore_columns -%}
        {%- do columns.append(name) -%}
    {%- endfor -%}
    {%- set changes = compare_schema ~ '.' ~ adapter.quote(model_name ~ '__changes') -%}
    {%- set column_list = columns | join(', ') -%}
    {%- set key_list = keys | join(', ') -%}

    {%- call statement('compare', fetch_result=False) -%}
        drop table if exists {{ changes }};
        create table {{ changes }} as

        with

        before_change as (

            select {{ column_list }} from {{ saved }}

        ),

        after_change as (

            select {{ column_list }} from {{ current }}

        ),

        differing_rows as (

            (select 'before' as version, * from before_change except select 'before', * from after_change)

            union all

            (select 'after' as version, * from after_change except select 'after', * from before_change)

        ),

        classified as (

            select
                case
                    when bool_or(version = 'before') over by_key and bool_or(version = 'after') over by_key
                        then 'changed'
                    when version = 'before' then 'removed'
                    else 'added'
                end as change,
                *

            from differing_rows

            window by_key as (partition by {{ key_list }})

        )

        select * from classified
    {%- endcall -%}
    {%- do adapter.commit() -%}

    {%- set value_columns = columns | reject('in', keys) | list -%}
    {%- set changed_values = compare_schema ~ '.' ~ adapter.quote(model_name ~ '__changed_values') -%}
    {%- call statement('changed_values', fetch_result=False) -%}
        drop table if exists {{ changed_values }};
        create table {{ changed_values }} as

        with

        before_change as (

            select * from {{ changes }} where change = 'changed' and version = 'before'

        ),

        after_change as (

            select * from {{ changes }} where change = 'changed' and version = 'after'

        ),

        changed_values as (
        {%- for column in value_columns %}

            select
                {%- for key in keys %}
                before_change.{{ key }},
                {%- endfor %}
                '{{ column }}' as column_name,
                before_change.{{ column }}::text as before_value,
                after_change.{{ column }}::text as after_value

            from before_change

            inner join after_change
                on {% for key in keys -%}
                before_change.{{ key }} is not distinct from after_change.{{ key }}
                {%- if not loop.last %} and {% endif -%}
                {%- endfor %}

            where before_change.{{ column }} is distinct from after_change.{{ column }}
            {% if not loop.last %}union all{% endif %}
        {%- endfor %}

        )

        select * from changed_values
    {%- endcall -%}
    {%- do adapter.commit() -%}

    {%- set counts = run_query(
        "select (select count(*) from " ~ saved ~ "), (select count(*) from " ~ current ~ "), "
        ~ "count(*) filter (where change = 'changed' and version = 'after'), "
        ~ "count(*) filter (where change = 'added'), count(*) filter (where change = 'removed') "
        ~ "from " ~ changes).rows[0] -%}
    {%- set only_saved = saved_names | reject('in', current_names) | list -%}
    {%- set only_current = current_names | reject('in', saved_names) | list -%}
    {{ print("") }}
    {{ print(model_name ~ ": " ~ counts[0] ~ " rows saved, " ~ counts[1] ~ " rows now; by (" ~ key_list ~ "): "
        ~ counts[2] ~ " changed, " ~ counts[3] ~ " added, " ~ counts[4] ~ " removed") }}
    {{ print("compared " ~ value_columns | length ~ " columns besides the key; ignored: "
        ~ (ignore_columns | join(', ') or 'none')) }}
    {%- if only_saved or only_current %}
    {{ print("columns only in the saved version: " ~ (only_saved | join(', ') or 'none')
        ~ "; only in the new one: " ~ (only_current | join(', ') or 'none')) }}
    {%- endif %}
    {%- if counts[2] > 0 %}
    {%- set per_column = run_query("select column_name, count(*) as rows_changed from " ~ changed_values
        ~ " group by 1 order by 1") -%}
    {{ print("") }}
    {{ print("changed values per column:") }}
    {%- do per_column.print_table() -%}
    {%- set listing = run_query("select * from " ~ changed_values ~ " order by " ~ key_list
        ~ ", column_name limit " ~ limit) -%}
    {{ print("") }}
    {{ print("changed values (first " ~ limit ~ "; all: select * from " ~ changed_values ~ "):") }}
    {%- do listing.print_table(max_rows=limit, max_column_width=40, max_precision=9) -%}
    {%- endif %}
    {%- if counts[3] + counts[4] > 0 %}
    {%- set listing = run_query("select * from " ~ changes ~ " where change <> 'changed' order by "
        ~ key_list ~ " limit " ~ limit) -%}
    {{ print("") }}
    {{ print("added and removed rows (first " ~ limit ~ "):") }}
    {%- do listing.print_table(max_rows=limit, max_columns=20, max_column_width=32, max_precision=9) -%}
    {%- endif %}
    {{ print("") }}
    {{ print("every differing row, before and after: select * from " ~ changes ~ " order by " ~ key_list
        ~ ", version desc;") }}
{% endmacro %}


{#- The model node of `model_name` in the project's graph (run-operation only). -#}
{% macro _compare_model_node(model_name) %}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no model named " ~ model_name) }}
{% endmacro %}


{% macro _compare_relation(node) %}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}


{#- The model's grain: the columns of its unique index (config `indexes`: the marts' keys), else of its
    unique_combination_of_columns test, else its `unique` column. -#}
{% macro _compare_grain(node) %}
    {%- for index in node.config.get('indexes') or [] if index.get('unique') -%}
        {{ return(index['columns']) }}
    {%- endfor -%}
    {%- set unique_columns = [] -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and test.attached_node == node.unique_id and test.test_metadata -%}
        {%- if test.test_metadata.name == 'unique_combination_of_columns' -%}
            {{ return(test.test_metadata.kwargs.combination_of_columns) }}
        {%- elif test.test_metadata.name == 'unique' -%}
            {%- do unique_columns.append(test.column_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if unique_columns -%}
        {{ return(unique_columns[:1]) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        node.name ~ " has no unique index, unique_combination_of_columns or unique test: pass key_columns") }}
{% endmacro %}
