-- 100: the EnMS real-time status view under the EnMS document's own name
-- (`SELECT * FROM v_machines_current_status`). A plain view: it reads machine_status, one row
-- per machine, which the ingestor keeps current from the readings themselves (043), so it
-- costs a dashboard nothing to poll.
CREATE OR REPLACE VIEW v_machines_current_status AS
SELECT m.id AS machine_id,
       m.name AS machine_name,
       m.type AS machine_type,
       f.id AS factory_id,
       f.name AS factory_name,
       m.mqtt_topic,
       m.is_critical,
       m.rated_power_kw,
       s.is_running,
       s.operating_mode,
       s.current_power_kw,
       -- share of the nameplate rating drawn now
       s.current_power_kw / m.rated_power_kw * 100 AS load_percent,
       s.energy_total_kwh,
       s.last_reading_at,                -- `time` of the newest reading stored
       s.time AS status_time,            -- `time` of the newest T/status
       s.last_seen,                      -- when the ingestor last wrote this machine's row
       extract(epoch FROM now() - s.last_seen)::double precision AS seconds_since_seen,
       (s.machine_id IS NULL OR s.operating_mode = 'offline'
        OR now() - s.last_seen > greatest(interval '60 seconds', 3 * m.data_interval_seconds * interval '1 second')) AS is_stale,
       CASE WHEN s.machine_id IS NULL THEN 'unknown'
            WHEN s.operating_mode = 'offline'
              OR now() - s.last_seen > greatest(interval '60 seconds', 3 * m.data_interval_seconds * interval '1 second')
              THEN 'offline'
            ELSE coalesce(s.operating_mode::text, CASE WHEN s.is_running THEN 'running' ELSE 'unknown' END)
       END AS status,
       (SELECT count(*) FROM anomalies a WHERE a.machine_id = m.id AND a.resolved_at IS NULL) AS open_anomalies
  FROM machines m
  JOIN factories f ON f.id = m.factory_id
  LEFT JOIN machine_status s ON s.machine_id = m.id
 WHERE m.is_active;
