-- 090: data lifecycle. Raw time series: compressed after 7 days (TimescaleDB), dropped after
-- 90 days (both backends). Rollups are kept.

DO $$
DECLARE
  t text;
BEGIN
  IF factorysim_backend() <> 'timescaledb' THEN
    RETURN;
  END IF;
  FOREACH t IN ARRAY ARRAY['energy_readings', 'production_data', 'environmental_data', 'health_truth'] LOOP
    -- One compressed segment per machine, ordered by time: the access path of every KPI.
    IF NOT EXISTS (SELECT 1 FROM timescaledb_information.hypertables h
                    WHERE h.hypertable_schema = current_schema() AND h.hypertable_name = t
                      AND h.compression_enabled) THEN
      EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, '
                     'timescaledb.compress_orderby = %L)', t, 'machine_id',
                     CASE WHEN t = 'energy_readings' THEN 'time DESC, energy_type' ELSE 'time DESC' END);
    END IF;
    PERFORM add_compression_policy(format('%I.%I', current_schema(), t)::regclass, interval '7 days',
                                   if_not_exists => true);
    PERFORM add_retention_policy(format('%I.%I', current_schema(), t)::regclass, interval '90 days',
                                 if_not_exists => true);
  END LOOP;
END $$;

-- Plain PostgreSQL: drops the daily partitions <table>_pYYYYMMDD of one table whose day
-- ends at or before p_horizon, and the DEFAULT partition's older rows; returns the number of
-- partitions dropped. Used for these tables and MANTIS's.
CREATE OR REPLACE FUNCTION drop_day_partitions(p_parent regclass, p_horizon timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped integer := 0;
  def regclass;
BEGIN
  FOR part IN
    SELECT c.oid::regclass AS rel, c.relname
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = p_parent AND c.relname ~ '_p[0-9]{8}$'
  LOOP
    -- <table>_pYYYYMMDD holds [day, day + 1): drop once its end is at or before the horizon.
    IF (to_date(right(part.relname, 8), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC') + interval '1 day' <= p_horizon THEN
      EXECUTE format('DROP TABLE %s', part.rel);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  SELECT i.inhrelid::regclass INTO def FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = p_parent AND c.relname ~ '_default$';
  IF def IS NOT NULL THEN
    EXECUTE format('DELETE FROM %s WHERE time < $1', def) USING p_horizon;
  END IF;
  RETURN dropped;
END $$;

-- Drops raw time-series data older than as_of - keep, on either backend: whole chunks on
-- TimescaleDB (drop_chunks; the retention policy does the same daily), whole daily partitions
-- plus old rows of the DEFAULT partitions on PostgreSQL. Records the horizon so that
-- refresh_rollups() never empties kept rollups of dropped days. Returns the number of
-- chunks/partitions dropped.
CREATE OR REPLACE FUNCTION apply_retention(keep interval DEFAULT interval '90 days', as_of timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  horizon timestamptz := as_of - keep;
  parent text;
  dropped integer := 0;
  n integer;
BEGIN
  FOREACH parent IN ARRAY ARRAY['energy_readings', 'production_data', 'environmental_data', 'health_truth'] LOOP
    IF factorysim_backend() = 'timescaledb' THEN
      SELECT count(*) INTO n FROM drop_chunks(parent::regclass, older_than => horizon);
      dropped := dropped + n;
    ELSE
      dropped := dropped + drop_day_partitions(parent::regclass, horizon);
    END IF;
  END LOOP;
  INSERT INTO factorysim_settings (key, value) VALUES ('raw_retention_horizon', horizon::text)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
   WHERE factorysim_settings.value::timestamptz < excluded.value::timestamptz;
  RETURN dropped;
END $$;
