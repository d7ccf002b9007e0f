-- mantis/040: sensor_data_windowed (1 min, 5 min, 1 h windows) and sensor_features (rms,
-- peak, peak_to_peak, crest_factor per 5 min and 1 h window) computed from sensor_data_raw by
-- refresh_mantis_windows(from, to), which `db maintain` calls over its --refresh-hours window.
-- A plain function on both backends, not a continuous aggregate: the two tables are
-- hypertables with their own retention (180 days, 1 year, longer than the raw data's 90), which
-- a continuous aggregate (a view over its own hypertable) could not be, and the names and
-- columns stay the same everywhere. Only whole windows are written (a window still in progress
-- at p_to is left for the next run), and never before the raw data's retention horizon, so a
-- refresh reaching back past it cannot erase windows whose raw rows are gone.

-- 010 keyed sensor_features without its window: a 5-minute and a 1-hour rms starting at the
-- same instant would collide. The key gets the window (the table was empty until this file).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'sensor_features_key'
              AND conrelid = format('%I.%I', current_schema(), 'sensor_features')::regclass) THEN
    ALTER TABLE sensor_features DROP CONSTRAINT sensor_features_key;
  END IF;
END $$;
CREATE UNIQUE INDEX IF NOT EXISTS sensor_features_window_key
  ON sensor_features (asset_id, sensor_id, feature_name, window_size, time);

-- The windows and the features: which sizes, and from which window size each feature is taken.
CREATE OR REPLACE FUNCTION mantis_window_sizes() RETURNS TABLE (window_size text, width interval, with_features boolean)
LANGUAGE sql IMMUTABLE SET search_path FROM CURRENT AS $$
  -- A 1-minute window of a signal sampled once a minute holds one value: features of it say
  -- nothing (crest factor 1), so features start at 5 minutes.
  VALUES ('1 minute', interval '1 minute', false), ('5 minutes', interval '5 minutes', true),
         ('1 hour', interval '1 hour', true)
$$;

-- Recomputes the whole windows inside [p_from, p_to) (p_from rounded down to each window's
-- start, p_to down to its end) of every sensor: deletes what was there, inserts the aggregates.
-- Returns the number of window rows written (features not counted). Idempotent.
CREATE OR REPLACE FUNCTION refresh_mantis_windows(p_from timestamptz, p_to timestamptz) RETURNS bigint
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  origin constant timestamptz := timestamptz '2000-01-01 00:00Z';
  horizon timestamptz := p_to - (SELECT keep FROM mantis_retention() WHERE table_name = 'sensor_data_raw');
  s record;
  w_from timestamptz;
  w_to timestamptz;
  n bigint;
  total bigint := 0;
BEGIN
  FOR s IN SELECT * FROM mantis_window_sizes() LOOP
    w_from := date_bin(s.width, p_from, origin);
    IF w_from < horizon THEN
      -- The first whole window after the horizon: older raw rows may already be dropped.
      w_from := date_bin(s.width, horizon, origin);
      IF w_from < horizon THEN
        w_from := w_from + s.width;
      END IF;
    END IF;
    w_to := date_bin(s.width, p_to, origin);  -- the window holding p_to is not whole yet
    CONTINUE WHEN w_to <= w_from;
    DELETE FROM sensor_data_windowed WHERE window_size = s.window_size AND time >= w_from AND time < w_to;
    INSERT INTO sensor_data_windowed (time, sensor_id, window_size, sample_count, mean, min, max, stddev, first, last)
    SELECT date_bin(s.width, r.time, origin), r.sensor_id, s.window_size, count(r.value), avg(r.value),
           min(r.value), max(r.value), stddev_samp(r.value),
           (array_agg(r.value ORDER BY r.time) FILTER (WHERE r.value IS NOT NULL))[1],
           (array_agg(r.value ORDER BY r.time DESC) FILTER (WHERE r.value IS NOT NULL))[1]
      FROM sensor_data_raw r WHERE r.time >= w_from AND r.time < w_to
     GROUP BY 1, 2;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    CONTINUE WHEN NOT s.with_features;
    DELETE FROM sensor_features WHERE window_size = s.window_size AND time >= w_from AND time < w_to;
    INSERT INTO sensor_features (time, asset_id, sensor_id, feature_name, window_size, value)
    SELECT f.time, f.asset_id, f.sensor_id, x.feature_name, s.window_size, x.value
      FROM (SELECT date_bin(s.width, r.time, origin) AS time, se.asset_id, r.sensor_id,
                   sqrt(avg(r.value * r.value)) AS rms, max(abs(r.value)) AS peak,
                   max(r.value) - min(r.value) AS peak_to_peak
              FROM sensor_data_raw r JOIN sensors se ON se.id = r.sensor_id
             WHERE r.time >= w_from AND r.time < w_to AND r.value IS NOT NULL
             GROUP BY 1, 2, 3) f
     CROSS JOIN LATERAL (VALUES ('rms', f.rms), ('peak', f.peak), ('peak_to_peak', f.peak_to_peak),
                                ('crest_factor', f.peak / nullif(f.rms, 0))) AS x (feature_name, value);
  END LOOP;
  RETURN total;
END $$;
