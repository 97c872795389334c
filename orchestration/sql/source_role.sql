-- The source role (`smartgrid db init-roles`): it only reads the tables of contract §1, the optional network tables
-- when the source has them (run init-roles again after they are created). Safe to run again.
do $$
begin
    if not exists (select from pg_roles where rolname = {reader_name}) then
        create role {reader} login;
    end if;
end
$$;

grant connect on database {database} to {reader};
grant usage on schema public to {reader};
grant select on public.sensor_data, public.meter_readings to {reader};
do $$
begin
    if to_regclass('public.transformers') is not null then
        execute format('grant select on public.transformers to %I', {reader_name});
    end if;
    if to_regclass('public.meter_connections') is not null then
        execute format('grant select on public.meter_connections to %I', {reader_name});
    end if;
end
$$;
