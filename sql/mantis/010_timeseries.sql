-- mantis/010: MANTIS time series. TimescaleDB: hypertables with 1-day chunks; PostgreSQL: range
-- partitions per UTC day plus a DEFAULT partition (ensure_day_partitions of the EnMS schema).
-- The ingestor writes sensor_data_raw (one narrow row per measured signal of every reading,
-- binary COPY, in the transaction of the EnMS rows) and system_events; the others are for
-- the MANTIS feature, scoring and RUL jobs. Retention per table (mantis_retention()), raw data
-- compressed after 7 days on TimescaleDB.
DO $$
DECLARE
  spec record;
  ts boolean := factorysim_backend() = 'timescaledb';
BEGIN
  FOR spec IN SELECT * FROM (VALUES
    ('sensor_data_raw', $cols$
      time      timestamptz NOT NULL,
      sensor_id uuid NOT NULL,                 -- sensors.id (no FK: the hot path, see docs/mantis.md)
      value     double precision,
      quality   smallint NOT NULL DEFAULT 192, -- OPC quality code: 192 good, 64 uncertain, 0 bad
      CONSTRAINT sensor_data_raw_sensor_time_key UNIQUE (sensor_id, time)
    $cols$),
    ('sensor_data_windowed', $cols$
      time        timestamptz NOT NULL,        -- window start
      sensor_id   uuid NOT NULL,
      window_size text NOT NULL CHECK (window_size IN ('1 minute', '5 minutes', '1 hour')),
      sample_count bigint NOT NULL,
      mean        double precision,
      min         double precision,
      max         double precision,
      stddev      double precision,
      first       double precision,
      last        double precision,
      CONSTRAINT sensor_data_windowed_key UNIQUE (sensor_id, window_size, time)
    $cols$),
    ('sensor_features', $cols$
      time         timestamptz NOT NULL,
      asset_id     uuid NOT NULL,
      sensor_id    uuid,
      feature_name text NOT NULL,              -- rms, kurtosis, fft_peak_hz, ...
      window_size  text,
      value        double precision,
      CONSTRAINT sensor_features_key UNIQUE (asset_id, feature_name, time, sensor_id)
    $cols$),
    ('anomaly_scores', $cols$
      time       timestamptz NOT NULL,
      asset_id   uuid NOT NULL,
      sensor_id  uuid,
      model_id   uuid,
      score      double precision NOT NULL,
      threshold  double precision,
      is_anomaly boolean,
      CONSTRAINT anomaly_scores_key UNIQUE (asset_id, time, model_id, sensor_id)
    $cols$),
    ('rul_predictions_ts', $cols$
      time                  timestamptz NOT NULL,
      asset_id              uuid NOT NULL,
      component             text NOT NULL DEFAULT 'all',
      rul_hours             double precision NOT NULL,
      confidence_low_hours  double precision,
      confidence_high_hours double precision,
      model_id              uuid,
      CONSTRAINT rul_predictions_ts_key UNIQUE (asset_id, component, time, model_id)
    $cols$),
    ('system_events', $cols$
      time       timestamptz NOT NULL,
      asset_id   uuid,                          -- NULL: plant-wide
      event_type text NOT NULL,                 -- failure, maintenance_start, maintenance_end, ...
      severity   text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'critical')),
      source     text,
      message    text,
      details    jsonb NOT NULL DEFAULT '{}',
      CONSTRAINT system_events_key UNIQUE (asset_id, event_type, time)
    $cols$)) AS s(table_name, columns)
  LOOP
    IF to_regclass(format('%I.%I', current_schema(), spec.table_name)) IS NULL THEN
      IF ts THEN
        EXECUTE format('CREATE TABLE %I (%s)', spec.table_name, spec.columns);
        PERFORM create_hypertable(format('%I.%I', current_schema(), spec.table_name)::regclass, 'time',
                                  chunk_time_interval => interval '1 day',
                                  create_default_indexes => false, if_not_exists => true);
      ELSE
        EXECUTE format('CREATE TABLE %I (%s) PARTITION BY RANGE (time)', spec.table_name, spec.columns);
      END IF;
    END IF;
    IF NOT ts AND to_regclass(format('%I.%I', current_schema(), spec.table_name || '_default')) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', spec.table_name || '_default', spec.table_name);
    END IF;
  END LOOP;
END $$;

-- How long each table keeps its rows (the MANTIS document's figures).
CREATE OR REPLACE FUNCTION mantis_retention() RETURNS TABLE (table_name text, keep interval)
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
  VALUES ('sensor_data_raw', interval '90 days'), ('sensor_data_windowed', interval '180 days'),
         ('sensor_features', interval '1 year'), ('anomaly_scores', interval '180 days'),
         ('rul_predictions_ts', interval '1 year'), ('system_events', interval '90 days')
$$;

-- TimescaleDB: compression of raw data after 7 days (one segment per sensor) and the retention
-- policies. PostgreSQL: apply_mantis_retention() does the same, called by `db maintain`.
DO $$
DECLARE
  r record;
BEGIN
  IF factorysim_backend() <> 'timescaledb' THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables h
                  WHERE h.hypertable_schema = current_schema() AND h.hypertable_name = 'sensor_data_raw'
                    AND h.compression_enabled) THEN
    ALTER TABLE sensor_data_raw SET (timescaledb.compress, timescaledb.compress_segmentby = 'sensor_id',
                                     timescaledb.compress_orderby = 'time DESC');
  END IF;
  PERFORM add_compression_policy(format('%I.sensor_data_raw', current_schema())::regclass, interval '7 days',
                                 if_not_exists => true);
  FOR r IN SELECT * FROM mantis_retention() LOOP
    PERFORM add_retention_policy(format('%I.%I', current_schema(), r.table_name)::regclass, r.keep,
                                 if_not_exists => true);
  END LOOP;
END $$;

-- Daily partitions for the MANTIS series over [p_from, p_to) (0 on TimescaleDB).
CREATE OR REPLACE FUNCTION ensure_mantis_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  r record;
  created integer := 0;
BEGIN
  IF factorysim_backend() = 'timescaledb' OR p_to <= p_from THEN
    RETURN 0;
  END IF;
  FOR r IN SELECT * FROM mantis_retention() LOOP
    created := created + ensure_day_partitions(format('%I.%I', current_schema(), r.table_name)::regclass, p_from, p_to);
  END LOOP;
  RETURN created;
END $$;

-- Drops what each series keeps no longer, as of `as_of`; returns partitions/chunks dropped.
CREATE OR REPLACE FUNCTION apply_mantis_retention(as_of timestamptz DEFAULT now()) RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  r record;
  dropped integer := 0;
  n integer;
BEGIN
  FOR r IN SELECT * FROM mantis_retention() LOOP
    IF factorysim_backend() = 'timescaledb' THEN
      SELECT count(*) INTO n FROM drop_chunks(format('%I.%I', current_schema(), r.table_name)::regclass,
                                              older_than => as_of - r.keep);
      dropped := dropped + n;
    ELSE
      dropped := dropped + drop_day_partitions(format('%I.%I', current_schema(), r.table_name)::regclass, as_of - r.keep);
    END IF;
  END LOOP;
  RETURN dropped;
END $$;
