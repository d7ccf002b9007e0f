-- A baseline anomaly model for the MANTIS layer (docs/mantis.md, "Model outputs"): a rolling
-- z-score of each sensor's 5-minute mean against its previous 12 windows (one hour), flagged
-- when |z| > 3. It is registered in ml_models as what it is (a baseline, not a trained
-- model), so dashboards have scores before a real model exists and a real model can be
-- compared against it. Run it with the MANTIS schema first on the search_path, after
-- `factorysim db maintain` has filled sensor_data_windowed, as often as you like: it scores
-- only the windows it has not scored yet.
--   psql "$PG" -v ON_ERROR_STOP=1 -c 'SET search_path = mantis, public' -f mantis_zscore_baseline.sql
-- The previous 12 rows of the sensor are its history, gaps or not; a window whose history has
-- fewer than 12 windows, or no spread, gets no score.

INSERT INTO ml_models (name, version, model_type, algorithm, target, metrics, is_active)
VALUES ('baseline_rolling_zscore', '1', 'anomaly_detection', 'rolling z-score',
        'sensor_data_windowed: 5-minute mean per sensor',
        '{"window": "5 minutes", "history_windows": 12, "threshold": 3, "trained": false}', true)
ON CONFLICT (name, version) DO NOTHING;

WITH model AS (
  SELECT id FROM ml_models WHERE name = 'baseline_rolling_zscore' AND version = '1'
), z AS (
  SELECT w.time, s.asset_id, w.sensor_id, w.mean,
         avg(w.mean) OVER history AS mu,
         stddev_samp(w.mean) OVER history AS sigma,
         count(w.mean) OVER history AS n
    FROM sensor_data_windowed w JOIN sensors s ON s.id = w.sensor_id
   WHERE w.window_size = '5 minutes'
  WINDOW history AS (PARTITION BY w.sensor_id ORDER BY w.time ROWS BETWEEN 12 PRECEDING AND 1 PRECEDING)
)
INSERT INTO anomaly_scores (time, asset_id, sensor_id, model_id, score, threshold, is_anomaly)
SELECT z.time, z.asset_id, z.sensor_id, model.id, (z.mean - z.mu) / z.sigma, 3,
       abs((z.mean - z.mu) / z.sigma) > 3
  FROM z CROSS JOIN model
 WHERE z.n = 12 AND z.sigma > 0
ON CONFLICT (asset_id, time, model_id, sensor_id) DO NOTHING;
