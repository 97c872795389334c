{#- Fails for every row where the SQL expression is not true (e.g. "estimated_kwh <= consumption_kwh"). -#}
{% test expression_is_true(model, expression) %}

select *

from {{ model }}

where not ({{ expression }})

{% endtest %}
