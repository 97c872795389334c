{#- Every VEE rule a meter fails, one row per meter, UTC day and rule: the union of the rule models in
    models/intermediate/vee/. A view, like rejected_readings: always exactly what they hold. -#}

with

gaps as not materialized (

    select * from {{ ref('int_meter_vee_gaps') }}

),

spikes as not materialized (

    select * from {{ ref('int_meter_vee_spikes') }}

),

flat_lines as not materialized (

    select * from {{ ref('int_meter_vee_flat_lines') }}

),

negative_intervals as not materialized (

    select * from {{ ref('int_meter_vee_negative_intervals') }}

),

conflicting_duplicates as not materialized (

    select * from {{ ref('int_meter_vee_conflicting_duplicates') }}

),

clock_problems as not materialized (

    select * from {{ ref('int_meter_vee_clock_problems') }}

),

unioned as (

    select * from gaps
    union all
    select * from spikes
    union all
    select * from flat_lines
    union all
    select * from negative_intervals
    union all
    select * from conflicting_duplicates
    union all
    select * from clock_problems

)

{# each rule model has the same columns (see _audit__models.yml) #}
select * from unioned  -- noqa: AM04
