-- mantis/020: rollups. sensor_data_hourly and sensor_data_daily per sensor (count, sum, avg,
-- min, max); anomalies_hourly per asset, type and severity. TimescaleDB: continuous
-- aggregates (the daily one on top of the hourly one), refreshed by policies with a 1-hour
-- end offset and read in real time (materialized_only = false), so a dashboard sees the
-- current hour; PostgreSQL: tables of the same columns that refresh_mantis_rollups(from, to)
-- recomputes for whole buckets (`db maintain`). anomalies_hourly reads the anomaly journal
-- (a plain table), so it is a table on both, filled by refresh_mantis_rollups().
DO $$
DECLARE
  ts boolean := factorysim_backend() = 'timescaledb';
BEGIN
  IF to_regclass(format('%I.sensor_data_hourly', current_schema())) IS NULL THEN
    IF ts THEN
      EXECUTE 'CREATE MATERIALIZED VIEW sensor_data_hourly WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS '
              'SELECT time_bucket(interval ''1 hour'', time) AS bucket, sensor_id, count(value) AS sample_count, '
              'sum(value) AS value_sum, avg(value) AS value_avg, min(value) AS value_min, max(value) AS value_max '
              'FROM sensor_data_raw GROUP BY 1, 2 WITH NO DATA';
      PERFORM add_continuous_aggregate_policy(format('%I.sensor_data_hourly', current_schema())::regclass,
                                              start_offset => interval '1 day', end_offset => interval '1 hour',
                                              schedule_interval => interval '30 minutes', if_not_exists => true);
    ELSE
      CREATE TABLE sensor_data_hourly (bucket timestamptz NOT NULL, sensor_id uuid NOT NULL, sample_count bigint NOT NULL,
                                       value_sum double precision, value_avg double precision,
                                       value_min double precision, value_max double precision,
                                       PRIMARY KEY (sensor_id, bucket));
    END IF;
  END IF;
  IF to_regclass(format('%I.sensor_data_daily', current_schema())) IS NULL THEN
    IF ts THEN
      EXECUTE 'CREATE MATERIALIZED VIEW sensor_data_daily WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS '
              'SELECT time_bucket(interval ''1 day'', bucket) AS bucket, sensor_id, sum(sample_count)::bigint AS sample_count, '
              'sum(value_sum) AS value_sum, sum(value_sum) / nullif(sum(sample_count), 0) AS value_avg, '
              'min(value_min) AS value_min, max(value_max) AS value_max '
              'FROM sensor_data_hourly GROUP BY 1, 2 WITH NO DATA';
      PERFORM add_continuous_aggregate_policy(format('%I.sensor_data_daily', current_schema())::regclass,
                                              start_offset => interval '3 days', end_offset => interval '1 day',
                                              schedule_interval => interval '1 hour', if_not_exists => true);
    ELSE
      CREATE TABLE sensor_data_daily (LIKE sensor_data_hourly INCLUDING ALL);
    END IF;
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS anomalies_hourly (
  bucket       timestamptz NOT NULL,
  asset_id     uuid NOT NULL,
  anomaly_type text NOT NULL,
  severity     text NOT NULL,
  anomalies    bigint NOT NULL,                    -- detected in this hour
  PRIMARY KEY (asset_id, anomaly_type, severity, bucket)
);

-- Recomputes the rollups for the whole buckets overlapping [p_from, p_to); returns the
-- number of buckets written. On TimescaleDB the sensor rollups are continuous aggregates
-- (refreshed by their policies or CALL refresh_continuous_aggregate), so only
-- anomalies_hourly is done here.
CREATE OR REPLACE FUNCTION refresh_mantis_rollups(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  h_from timestamptz := date_trunc('hour', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  h_to timestamptz := date_trunc('hour', (p_to AT TIME ZONE 'UTC') + interval '1 hour' - interval '1 microsecond') AT TIME ZONE 'UTC';
  d_from timestamptz := date_trunc('day', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  d_to timestamptz := date_trunc('day', (p_to AT TIME ZONE 'UTC') + interval '1 day' - interval '1 microsecond') AT TIME ZONE 'UTC';
  n bigint;
  total bigint := 0;
BEGIN
  IF factorysim_backend() <> 'timescaledb' THEN
    DELETE FROM sensor_data_hourly WHERE bucket >= h_from AND bucket < h_to;
    INSERT INTO sensor_data_hourly
    SELECT date_bin(interval '1 hour', time, timestamptz '2000-01-01 00:00Z'), sensor_id, count(value), sum(value),
           avg(value), min(value), max(value)
      FROM sensor_data_raw WHERE time >= h_from AND time < h_to GROUP BY 1, 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    DELETE FROM sensor_data_daily WHERE bucket >= d_from AND bucket < d_to;
    INSERT INTO sensor_data_daily
    SELECT date_bin(interval '1 day', bucket, timestamptz '2000-01-01 00:00Z'), sensor_id, sum(sample_count)::bigint,
           sum(value_sum), sum(value_sum) / nullif(sum(sample_count), 0), min(value_min), max(value_max)
      FROM sensor_data_hourly WHERE bucket >= d_from AND bucket < d_to GROUP BY 1, 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
  END IF;
  DELETE FROM anomalies_hourly WHERE bucket >= h_from AND bucket < h_to;
  INSERT INTO anomalies_hourly
  SELECT date_trunc('hour', detected_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', asset_id, anomaly_type, severity, count(*)
    FROM anomalies WHERE detected_at >= h_from AND detected_at < h_to GROUP BY 1, 2, 3, 4;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN total + n;
END $$;
