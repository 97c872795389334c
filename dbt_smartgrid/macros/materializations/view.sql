{#- The project's views (staging, the VEE rule views, the estimate views, audit): dbt's own view
    materialization, run only when the view would change. dbt recreates every view on every build (create a
    new one, rename, drop the old one; 21 views in the hourly build). Here the view's compiled SQL
    and config are fingerprinted, and the fingerprint is kept as the view's comment:
    - the same fingerprint on the view in the database: the view is left as it is (its hooks still run);
    - anything else (no view: a first build, or dropped with a table or view it reads; SQL, vars or config
      changed; --full-refresh): dbt's view materialization, then the new fingerprint.
    A view dies with its comment, so a view dropped by a cascade is always rebuilt. -#}
{%- materialization view, adapter='postgres' -%}
  {%- set fingerprint = 'smartgrid view ' ~ local_md5(sql ~ tojson(model['config'], sort_keys=true)) -%}
  {%- call statement('view_in_database', fetch_result=True, auto_begin=True) -%}
    select obj_description(to_regclass('{{ this.include(database=false) }}'), 'pg_class')
  {%- endcall -%}
  {%- if not should_full_refresh() and load_result('view_in_database').table.columns[0].values()[0] == fingerprint -%}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- do store_raw_result('main', message='UNCHANGED', code='UNCHANGED', rows_affected=-1) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do adapter.commit() -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [this.incorporate(type='view')]}) }}
  {%- endif -%}
  {%- set built = materialization_view_default() -%}
  {%- call statement('view_fingerprint') -%}
    comment on view {{ this }} is '{{ fingerprint }}'
  {%- endcall -%}
  {%- do adapter.commit() -%}
  {{ return(built) }}
{%- endmaterialization -%}
