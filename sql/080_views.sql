-- 080: views a dashboard needs.

-- Latest state of every machine (machines without any status yet appear with NULLs).
-- is_stale: nothing heard for more than 3 data intervals (at least 60 s) of wall-clock time,
-- or the broker published the machine's last will (operating_mode offline).
CREATE OR REPLACE VIEW v_machine_status AS
SELECT m.id AS machine_id,
       m.name AS machine_name,
       m.type AS machine_type,
       m.factory_id,
       f.name AS factory_name,
       m.is_critical,
       s.time AS status_time,
       s.is_running,
       s.operating_mode,
       s.current_power_kw,
       s.energy_total_kwh,
       s.last_seen,
       extract(epoch FROM now() - s.last_seen)::double precision AS seconds_since_seen,
       (s.machine_id IS NULL OR s.operating_mode = 'offline'
        OR now() - s.last_seen > greatest(interval '60 seconds', 3 * m.data_interval_seconds * interval '1 second')) AS is_stale,
       (SELECT count(*) FROM anomalies a WHERE a.machine_id = m.id AND a.resolved_at IS NULL) AS open_anomalies
  FROM machines m
  JOIN factories f ON f.id = m.factory_id
  LEFT JOIN machine_status s ON s.machine_id = m.id
 WHERE m.is_active;

-- Energy of one factory-local calendar day per factory (raw readings, local midnight to
-- local midnight, DST-aware: a day may have 23 or 25 hours).
CREATE OR REPLACE FUNCTION factory_energy_on(p_local_date date)
RETURNS TABLE (factory_id uuid, factory_name text, timezone text, local_date date,
               day_start timestamptz, day_end timestamptz, energy_kwh double precision,
               machines_reporting bigint, last_reading_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT f.id, f.name, f.timezone, p_local_date,
         p_local_date::timestamp AT TIME ZONE f.timezone,
         (p_local_date + 1)::timestamp AT TIME ZONE f.timezone,
         coalesce(e.kwh, 0), coalesce(e.machines, 0), e.last_time
    FROM factories f
    LEFT JOIN LATERAL (
      SELECT sum(er.energy_kwh) AS kwh, count(DISTINCT er.machine_id) AS machines, max(er.time) AS last_time
        FROM machines m
        JOIN energy_readings er ON er.machine_id = m.id
       WHERE m.factory_id = f.id AND er.energy_type = 'electrical'
         AND er.time >= p_local_date::timestamp AT TIME ZONE f.timezone
         AND er.time < (p_local_date + 1)::timestamp AT TIME ZONE f.timezone) e ON true
$$;

-- Today's energy per factory, "today" on each factory's own clock.
CREATE OR REPLACE VIEW v_factory_energy_today AS
SELECT f.id AS factory_id, f.name AS factory_name, f.timezone, t.local_date,
       t.day_start, t.energy_kwh, t.machines_reporting, t.last_reading_at
  FROM factories f
  CROSS JOIN LATERAL factory_energy_on((now() AT TIME ZONE f.timezone)::date) t
 WHERE t.factory_id = f.id;

-- Open anomalies, newest first.
CREATE OR REPLACE VIEW v_active_anomalies AS
SELECT a.id, a.machine_id, m.name AS machine_name, a.detected_at, a.anomaly_type, a.severity,
       a.metric_name, a.signals, a.source, now() - a.detected_at AS active_for
  FROM anomalies a JOIN machines m ON m.id = a.machine_id
 WHERE a.resolved_at IS NULL
 ORDER BY a.detected_at DESC;
