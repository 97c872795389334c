-- The warehouse's raw schema (docs/data-contract.md §2): every source column with its source type, plus load metadata.
-- event_id is unique, so a source row can be in raw only once however often it is loaded.
create schema if not exists raw;

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

create table if not exists raw.sensor_data (
    id          bigint not null,
    event_id    varchar(255) not null unique,
    sensor_id   varchar(100) not null,
    sensor_type varchar(50)  not null,
    value       numeric(10, 4) not null,
    latitude    numeric(10, 7),
    longitude   numeric(10, 7),
    "timestamp" timestamp not null,
    metadata    jsonb,
    created_at  timestamp not null,
    _load_id    uuid not null,
    _loaded_at  timestamptz not null
);
create index if not exists sensor_data_loaded_at_idx on raw.sensor_data (_loaded_at);
create index if not exists sensor_data_hour_idx
    on raw.sensor_data ((date_trunc('hour', "timestamp")));

create table if not exists raw.meter_readings (
    id          bigint not null,
    event_id    varchar(255) not null unique,
    meter_id    varchar(100) not null,
    customer_id varchar(100) not null,
    reading     numeric(12, 4) not null,
    unit        varchar(10),
    "timestamp" timestamp not null,
    created_at  timestamp not null,
    _load_id    uuid not null,
    _loaded_at  timestamptz not null
);
create index if not exists meter_readings_loaded_at_idx on raw.meter_readings (_loaded_at);
create index if not exists meter_readings_hour_idx
    on raw.meter_readings ((date_trunc('hour', "timestamp")));

-- Set by the opt-in retention cleanup: raw holds no rows before cleaned_before, on purpose.
create table if not exists raw.retention (
    table_name     text primary key,
    cleaned_before timestamp not null
);
