-- The source role (`smartgrid db init-roles`): it only reads the two tables of contract §1. Safe to run again.
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
