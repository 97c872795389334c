{{ config(materialized='view') }}

{#- Each transformer as the network knows it now: its latest version (feeder, rating, location). A view over
    int_transformer_versions (one row per version: small). -#}

with

transformer_versions as (

    select * from {{ ref('int_transformer_versions') }}

),

final as (

    select
        transformer_id,
        feeder_id,
        rated_kva,
        has_rating,
        latitude,
        longitude,
        valid_from

    from transformer_versions

    where valid_to is null

)

select * from final
