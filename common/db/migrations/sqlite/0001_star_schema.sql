-- 0001_star_schema (sqlite): the warehouse star schema.
-- Stations are keyed by (system_id, station_id), never by name.
CREATE TABLE dim_system (
    system_id  TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL
);

-- Type-2 history: a rename, move or resize closes the current version
-- (valid_to = the first window of the next one, is_current = 0).
CREATE TABLE dim_station (
    system_id   TEXT    NOT NULL,
    station_id  TEXT    NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_to    INTEGER,
    is_current  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    lat         REAL    NOT NULL,
    lon         REAL    NOT NULL,
    capacity    INTEGER NOT NULL,
    PRIMARY KEY (system_id, station_id, valid_from)
);
CREATE UNIQUE INDEX dim_station_current
    ON dim_station (system_id, station_id) WHERE is_current = 1;

-- One row per UTC hour and system: the local calendar of that hour.
CREATE TABLE dim_time (
    system_id      TEXT    NOT NULL,
    hour_start_ms  INTEGER NOT NULL,
    local_date     TEXT    NOT NULL,
    local_hour     INTEGER NOT NULL,
    day_of_week    INTEGER NOT NULL,
    PRIMARY KEY (system_id, hour_start_ms)
);

-- The primary keys serve the history queries (one station, a time range).
CREATE TABLE fact_station_hourly (
    system_id        TEXT    NOT NULL,
    station_id       TEXT    NOT NULL,
    window_start_ms  INTEGER NOT NULL,
    samples          INTEGER NOT NULL,
    bikes_avg        REAL    NOT NULL,
    bikes_min        REAL    NOT NULL,
    bikes_max        REAL    NOT NULL,
    docks_avg        REAL    NOT NULL,
    docks_min        REAL    NOT NULL,
    docks_max        REAL    NOT NULL,
    minutes_empty    REAL    NOT NULL,
    minutes_full     REAL    NOT NULL,
    bikes_in         INTEGER NOT NULL,
    bikes_out        INTEGER NOT NULL,
    flow_reliable    INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    capacity         INTEGER NOT NULL,
    electric_avg     REAL,
    PRIMARY KEY (system_id, station_id, window_start_ms)
);

CREATE TABLE fact_station_daily (
    system_id        TEXT    NOT NULL,
    station_id       TEXT    NOT NULL,
    window_start_ms  INTEGER NOT NULL,
    local_date       TEXT    NOT NULL,
    samples          INTEGER NOT NULL,
    bikes_avg        REAL    NOT NULL,
    bikes_min        REAL    NOT NULL,
    bikes_max        REAL    NOT NULL,
    docks_avg        REAL    NOT NULL,
    docks_min        REAL    NOT NULL,
    docks_max        REAL    NOT NULL,
    minutes_empty    REAL    NOT NULL,
    minutes_full     REAL    NOT NULL,
    bikes_in         INTEGER NOT NULL,
    bikes_out        INTEGER NOT NULL,
    flow_reliable    INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    capacity         INTEGER NOT NULL,
    electric_avg     REAL,
    PRIMARY KEY (system_id, station_id, window_start_ms)
);
-- Top stations: one system and one local day.
CREATE INDEX fact_station_daily_day ON fact_station_daily (system_id, local_date);
