-- The warehouse's raw schema (docs/data-contract.md §2), after the schema and its copies of the source tables that
-- orchestration/sources.py generates (every source column with its source type, plus _load_id and _loaded_at;
-- event_id is unique, so a source row can be in raw only once however often it is loaded).

create table if not exists raw.load_log (
    load_id      uuid not null,
    started_at   timestamptz not null,
    finished_at  timestamptz not null,
    window_end   timestamp not null,    -- rows with "timestamp" < window_end were reconciled (UTC)
    table_name   text not null,
    hours_copied integer not null,      -- source hours whose rows differed from raw and were copied
    rows_copied  bigint not null,       -- rows read from the source for those hours
    rows_loaded  bigint not null,       -- rows new to raw
    primary key (load_id, table_name)
);
-- the highest source id the load saw: the next load copies every row above it, whatever its hour
alter table raw.load_log add column if not exists source_max_id bigint;
create index if not exists load_log_table_finished_idx on raw.load_log (table_name, finished_at);

create index if not exists sensor_data_loaded_at_idx on raw.sensor_data (_loaded_at);
drop index if exists raw.sensor_data_hour_idx;
create index if not exists sensor_data_timestamp_idx on raw.sensor_data ("timestamp");

create index if not exists meter_readings_loaded_at_idx on raw.meter_readings (_loaded_at);
drop index if exists raw.meter_readings_hour_idx;
create index if not exists meter_readings_timestamp_idx on raw.meter_readings ("timestamp");

-- Set by the opt-in retention cleanup: raw holds no rows before cleaned_before, on purpose.
create table if not exists raw.retention (
    table_name     text primary key,
    cleaned_before timestamp not null
);

-- Per raw table and source hour: how many rows raw holds and the sum of their source ids. The loader adds to it
-- in the same statement that inserts rows, so comparing an hour with the source never scans raw.
create table if not exists raw.hour_fingerprints (
    table_name text not null,
    hour       timestamp not null,     -- date_trunc('hour', "timestamp"); -infinity and BC hours included
    row_count  bigint not null,
    id_sum     numeric not null,
    primary key (table_name, hour)
);
-- a warehouse loaded before the fingerprints existed: count raw once
insert into raw.hour_fingerprints (table_name, hour, row_count, id_sum)
select 'sensor_data', date_trunc('hour', "timestamp"), count(*), sum(id) from raw.sensor_data
where not exists (select from raw.hour_fingerprints where table_name = 'sensor_data')
group by 2;
insert into raw.hour_fingerprints (table_name, hour, row_count, id_sum)
select 'meter_readings', date_trunc('hour', "timestamp"), count(*), sum(id) from raw.meter_readings
where not exists (select from raw.hour_fingerprints where table_name = 'meter_readings')
group by 2;

-- When the newest load started (-infinity before any load): rows whose loaded_at / loaded_through is at or after
-- it came with the latest load. The dbt data tests see only those rows (their `where` config in
-- dbt_project.yml), so an hourly `dbt build` tests the new rows, not all of history.
create or replace function raw.latest_load_started() returns timestamptz
language sql stable as $$
    select coalesce(
        (select min(started_at) from raw.load_log
         where load_id = (select load_id from raw.load_log order by finished_at desc limit 1)),
        '-infinity'::timestamptz
    )
$$;


-- The daily run's sweep of older days (steps/reconcile.py): how many daily loads each table has had. A daily load
-- compares the older retained days whose day number is congruent to this count modulo SMARTGRID_RECONCILE_SWEEP_RUNS.
create table if not exists raw.reconcile_sweep (
    table_name text primary key,
    daily_runs bigint not null
);

-- The optional network tables (sources.py, NETWORK_TABLES): the network marts find the versions loaded since
-- their last build through these.
create index if not exists transformers_loaded_at_idx on raw.transformers (_loaded_at);
create index if not exists meter_connections_loaded_at_idx on raw.meter_connections (_loaded_at);
