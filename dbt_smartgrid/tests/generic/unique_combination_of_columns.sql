{#- Fails for every combination of the columns that occurs more than once (the natural grain of a
    fact). Written here because dbt hub packages (dbt_utils) cannot be installed on our machines. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences

from {{ model }}

group by {{ combination_of_columns | join(', ') }}

having count(*) > 1

{% endtest %}
