-- The operational database's two tables, exactly as docs/data-contract.md §1 has them (used by the simulator and tests;
-- in production these tables belong to the ingestion services).
create table if not exists sensor_data (
    id          bigserial primary key,
    event_id    varchar(255) unique not null,
    sensor_id   varchar(100) not null,
    sensor_type varchar(50)  not null,
    value       numeric(10, 4) not null,
    latitude    numeric(10, 7),
    longitude   numeric(10, 7),
    "timestamp" timestamp not null,
    metadata    jsonb,
    created_at  timestamp not null default (now() at time zone 'utc')
);
create index if not exists sensor_data_timestamp_idx on sensor_data ("timestamp");

create table if not exists meter_readings (
    id          bigserial primary key,
    event_id    varchar(255) unique not null,
    meter_id    varchar(100) not null,
    customer_id varchar(100) not null,
    reading     numeric(12, 4) not null,
    unit        varchar(10) default 'kWh',
    "timestamp" timestamp not null,
    created_at  timestamp not null default (now() at time zone 'utc')
);
create index if not exists meter_readings_timestamp_idx on meter_readings ("timestamp");
