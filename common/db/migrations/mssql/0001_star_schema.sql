-- 0001_star_schema (mssql): the warehouse star schema.
-- Stations are keyed by (system_id, station_id), never by name.
CREATE TABLE dim_system (
    system_id  NVARCHAR(128) NOT NULL PRIMARY KEY,
    name       NVARCHAR(256) NOT NULL,
    time_zone  NVARCHAR(64) NOT NULL
);

-- Type-2 history: a rename, move or resize closes the current version
-- (valid_to = the first window of the next one, is_current = 0).
CREATE TABLE dim_station (
    system_id   NVARCHAR(128)    NOT NULL,
    station_id  NVARCHAR(128)    NOT NULL,
    valid_from  BIGINT  NOT NULL,
    valid_to    BIGINT,
    is_current  INT NOT NULL,
    name        NVARCHAR(256)    NOT NULL,
    lat         FLOAT    NOT NULL,
    lon         FLOAT    NOT NULL,
    capacity    INT NOT NULL,
    PRIMARY KEY (system_id, station_id, valid_from)
);
CREATE UNIQUE INDEX dim_station_current
    ON dim_station (system_id, station_id) WHERE is_current = 1;

-- One row per UTC hour and system: the local calendar of that hour.
CREATE TABLE dim_time (
    system_id      NVARCHAR(128)    NOT NULL,
    hour_start_ms  BIGINT  NOT NULL,
    local_date     CHAR(10)    NOT NULL,
    local_hour     INT NOT NULL,
    day_of_week    INT NOT NULL,
    PRIMARY KEY (system_id, hour_start_ms)
);

-- The primary keys serve the history queries (one station, a time range).
CREATE TABLE fact_station_hourly (
    system_id        NVARCHAR(128)    NOT NULL,
    station_id       NVARCHAR(128)    NOT NULL,
    window_start_ms  BIGINT  NOT NULL,
    samples          BIGINT  NOT NULL,
    bikes_avg        FLOAT    NOT NULL,
    bikes_min        FLOAT    NOT NULL,
    bikes_max        FLOAT    NOT NULL,
    docks_avg        FLOAT    NOT NULL,
    docks_min        FLOAT    NOT NULL,
    docks_max        FLOAT    NOT NULL,
    minutes_empty    FLOAT    NOT NULL,
    minutes_full     FLOAT    NOT NULL,
    bikes_in         BIGINT  NOT NULL,
    bikes_out        BIGINT  NOT NULL,
    flow_reliable    INT NOT NULL,
    status           NVARCHAR(32)    NOT NULL,
    capacity         INT NOT NULL,
    electric_avg     FLOAT,
    PRIMARY KEY (system_id, station_id, window_start_ms)
);

CREATE TABLE fact_station_daily (
    system_id        NVARCHAR(128)    NOT NULL,
    station_id       NVARCHAR(128)    NOT NULL,
    window_start_ms  BIGINT  NOT NULL,
    local_date       CHAR(10)    NOT NULL,
    samples          BIGINT  NOT NULL,
    bikes_avg        FLOAT    NOT NULL,
    bikes_min        FLOAT    NOT NULL,
    bikes_max        FLOAT    NOT NULL,
    docks_avg        FLOAT    NOT NULL,
    docks_min        FLOAT    NOT NULL,
    docks_max        FLOAT    NOT NULL,
    minutes_empty    FLOAT    NOT NULL,
    minutes_full     FLOAT    NOT NULL,
    bikes_in         BIGINT  NOT NULL,
    bikes_out        BIGINT  NOT NULL,
    flow_reliable    INT NOT NULL,
    status           NVARCHAR(32)    NOT NULL,
    capacity         INT NOT NULL,
    electric_avg     FLOAT,
    PRIMARY KEY (system_id, station_id, window_start_ms)
);
-- Top stations: one system and one local day.
CREATE INDEX fact_station_daily_day ON fact_station_daily (system_id, local_date);

-- bcp loads each batch here inside the batch's transaction, then MERGE
-- moves it into the star (the staging table is emptied first). Columns in
-- the order of db_sql_stage_cols and the bcp bind table (db_mssql_sql.c).
-- Optional strings are NULL here: bcp sends an empty string as NULL.
CREATE TABLE stg_station_stats (
    gran              INT           NOT NULL,
    system_id         NVARCHAR(128) NOT NULL,
    station_id        NVARCHAR(128) NOT NULL,
    window_start_ms   BIGINT        NOT NULL,
    local_date        CHAR(10)      NOT NULL,
    local_hour        INT           NOT NULL,
    local_dow         INT           NOT NULL,
    samples           BIGINT        NOT NULL,
    bikes_avg         FLOAT         NOT NULL,
    bikes_min         FLOAT         NOT NULL,
    bikes_max         FLOAT         NOT NULL,
    docks_avg         FLOAT         NOT NULL,
    docks_min         FLOAT         NOT NULL,
    docks_max         FLOAT         NOT NULL,
    minutes_empty     FLOAT         NOT NULL,
    minutes_full      FLOAT         NOT NULL,
    bikes_in          BIGINT        NOT NULL,
    bikes_out         BIGINT        NOT NULL,
    flow_reliable     INT           NOT NULL,
    status            NVARCHAR(32)  NULL,
    capacity          INT           NOT NULL,
    electric_avg      FLOAT         NULL,
    station_name      NVARCHAR(256) NULL,
    lat               FLOAT         NOT NULL,
    lon               FLOAT         NOT NULL,
    station_capacity  INT           NOT NULL,
    system_name       NVARCHAR(256) NULL,
    time_zone         NVARCHAR(64)  NULL,
    flags             INT           NOT NULL,
    dim_from_ms       BIGINT        NOT NULL
);
GO
-- The history and top-stations queries, called as RPCs so every value
-- travels as a typed parameter (db-lib has no bound parameters for plain
-- batches). The primary key and fact_station_daily_day serve them.
CREATE PROCEDURE velo_history
    @gran INT, @system_id NVARCHAR(128), @station_id NVARCHAR(128),
    @from_ms BIGINT, @to_ms BIGINT, @limit INT
AS
BEGIN
    SET NOCOUNT ON;
    IF @gran = 0
        SELECT TOP (@limit) system_id, station_id, window_start_ms, samples,
            bikes_avg, bikes_min, bikes_max, docks_avg, docks_min, docks_max,
            minutes_empty, minutes_full, bikes_in, bikes_out, flow_reliable,
            status, capacity, electric_avg, CAST(NULL AS CHAR(10)) AS local_date
        FROM fact_station_hourly
        WHERE system_id = @system_id AND station_id = @station_id
          AND window_start_ms >= @from_ms AND window_start_ms < @to_ms
        ORDER BY window_start_ms;
    ELSE
        SELECT TOP (@limit) system_id, station_id, window_start_ms, samples,
            bikes_avg, bikes_min, bikes_max, docks_avg, docks_min, docks_max,
            minutes_empty, minutes_full, bikes_in, bikes_out, flow_reliable,
            status, capacity, electric_avg, local_date
        FROM fact_station_daily
        WHERE system_id = @system_id AND station_id = @station_id
          AND window_start_ms >= @from_ms AND window_start_ms < @to_ms
        ORDER BY window_start_ms;
END
GO
CREATE PROCEDURE velo_top
    @system_id NVARCHAR(128), @local_date CHAR(10), @by INT, @limit INT
AS
BEGIN
    SET NOCOUNT ON;
    SELECT TOP (@limit) system_id, station_id, window_start_ms, samples,
        bikes_avg, bikes_min, bikes_max, docks_avg, docks_min, docks_max,
        minutes_empty, minutes_full, bikes_in, bikes_out, flow_reliable,
        status, capacity, electric_avg, local_date
    FROM fact_station_daily
    WHERE system_id = @system_id AND local_date = @local_date
    ORDER BY CASE @by WHEN 0 THEN CAST(bikes_in + bikes_out AS FLOAT)
                      WHEN 1 THEN minutes_empty
                      ELSE minutes_full END DESC, station_id;
END
