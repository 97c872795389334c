-- Least privilege in the warehouse (`smartgrid db init-roles`, orchestration/db/roles.py). Safe to run again.
--   loader       writes raw (owns it), nothing else
--   transformer  reads raw; owns staging, intermediate, marts, audit, reports and mart_backup (dbt, the checks,
--                the backups of the marts' replaced rows)
--   analyst      reads marts, audit.rejected_readings and the grid report's views in reports, nothing else
-- The loader and the transformer also get CREATE on the database: the pipeline's `create schema if not exists`
-- statements need it even when the schema exists (PostgreSQL checks the privilege first).

do $$
begin
    if not exists (select from pg_roles where rolname = {loader_name}) then
        create role {loader} login;
    end if;
    if not exists (select from pg_roles where rolname = {transformer_name}) then
        create role {transformer} login;
    end if;
    if not exists (select from pg_roles where rolname = {analyst_name}) then
        create role {analyst} login;
    end if;
end
$$;

grant connect, create on database {database} to {loader}, {transformer};
grant connect on database {database} to {analyst};
-- a run that times out ends its own sessions, the loader's included (orchestration/flows/watchdog.py)
grant pg_signal_backend to {transformer};

create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists audit;
create schema if not exists reports;
create schema if not exists mart_backup;
alter schema raw owner to {loader};
alter schema staging owner to {transformer};
alter schema intermediate owner to {transformer};
alter schema marts owner to {transformer};
alter schema audit owner to {transformer};
alter schema reports owner to {transformer};
alter schema mart_backup owner to {transformer};

-- objects an earlier run created under another role now belong to the role that writes them
do $$
declare
    obj record;
begin
    for obj in
        select n.nspname, c.relname, c.relkind
        from pg_class as c
        inner join pg_namespace as n on c.relnamespace = n.oid
        where n.nspname in ('raw', 'staging', 'intermediate', 'marts', 'audit', 'reports', 'mart_backup')
            and c.relkind in ('r', 'p', 'v', 'm', 'S')
            and not exists (select from pg_depend as d where d.objid = c.oid and d.deptype = 'a')  -- owned sequences
    loop
        execute format(
            'alter %s %I.%I owner to %I',
            case obj.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence'
                else 'table' end,
            obj.nspname, obj.relname,
            case when obj.nspname = 'raw' then {loader_name} else {transformer_name} end
        );
    end loop;
end
$$;

-- the transformer reads raw: the tables there now and those the loader creates later
grant usage on schema raw to {transformer};
grant select on all tables in schema raw to {transformer};
alter default privileges for role {loader} in schema raw grant select on tables to {transformer};

-- the analyst reads the marts (now and as dbt recreates them) and, in audit, only rejected_readings
-- (when dbt recreates that view, its post-hook grant_select_to_analyst grants it again)
grant usage on schema marts, audit to {analyst};
grant select on all tables in schema marts to {analyst};
alter default privileges for role {transformer} in schema marts grant select on tables to {analyst};
do $$
begin
    if to_regclass('audit.rejected_readings') is not null then
        execute format('grant select on audit.rejected_readings to %I', {analyst_name});
    end if;
end
$$;

-- and the grid report's views (dbt recreates them as the transformer; a view reads with its owner's rights, so
-- the analyst sees what they show, not the audit tables under them)
grant usage on schema reports to {analyst};
grant select on all tables in schema reports to {analyst};
alter default privileges for role {transformer} in schema reports grant select on tables to {analyst};
