-- 110: the EnMS dashboard layer of its 05-views.sql, by purpose (docs/schema.md "Dashboard
-- views"). Materialized views where a dashboard would otherwise scan raw data, refreshed by
-- refresh_enms_views() (`db maintain`; REFRESH ... CONCURRENTLY, each has a unique index);
-- plain views on top of them. Same names on TimescaleDB and PostgreSQL: the sources are the
-- rollups (continuous aggregates or tables of the same columns).

-- Per machine and UTC hour: energy, power, production, cost at the tariff of that local hour,
-- CO2 at that hour's factor. The base of every summary below.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_machine_hourly AS
SELECT e.machine_id, m.factory_id, e.bucket,
       (e.bucket AT TIME ZONE f.timezone)::date AS local_date,
       extract(hour FROM e.bucket AT TIME ZONE f.timezone)::integer AS local_hour,
       e.total_energy_kwh AS energy_kwh, e.avg_power_kw, e.max_power_kw, e.sample_count,
       coalesce(p.total_production_count, 0) AS production_units,
       coalesce(p.total_production_good, 0) AS good_units,
       p.running_samples::double precision / nullif(p.sample_count, 0) AS running_share,
       t.rate_per_kwh, t.currency,
       e.total_energy_kwh * t.rate_per_kwh AS cost,
       e.total_energy_kwh * carbon_factor_at(f.carbon_region, e.bucket) AS co2_kg
  FROM energy_readings_1hour e
  JOIN machines m ON m.id = e.machine_id
  JOIN factories f ON f.id = m.factory_id
  LEFT JOIN production_data_1hour p ON p.machine_id = e.machine_id AND p.bucket = e.bucket
  LEFT JOIN LATERAL tariff_at(f.id, (e.bucket AT TIME ZONE f.timezone), f.timezone) t ON true
 WHERE e.energy_type = 'electrical';
CREATE UNIQUE INDEX IF NOT EXISTS mv_machine_hourly_key ON mv_machine_hourly (machine_id, bucket);
CREATE INDEX IF NOT EXISTS mv_machine_hourly_factory_date_idx ON mv_machine_hourly (factory_id, local_date);

-- Per machine and factory-local day, with the baseline drivers: heating and cooling degree
-- days (base 18 °C) from the factory's mean outdoor temperature of that day.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_machine_daily AS
WITH outdoor AS (
  SELECT m.factory_id, (x.bucket AT TIME ZONE f.timezone)::date AS local_date,
         sum(x.avg_outdoor_temp_c * x.sample_count) / nullif(sum(x.sample_count) FILTER (WHERE x.avg_outdoor_temp_c IS NOT NULL), 0) AS outdoor_temp_c
    FROM environmental_data_1hour x
    JOIN machines m ON m.id = x.machine_id
    JOIN factories f ON f.id = m.factory_id
   WHERE x.avg_outdoor_temp_c IS NOT NULL
   GROUP BY 1, 2)
SELECT h.machine_id, h.factory_id, h.local_date,
       sum(h.energy_kwh) AS energy_kwh, max(h.max_power_kw) AS peak_power_kw,
       sum(h.avg_power_kw * h.sample_count) / nullif(sum(h.sample_count), 0) AS avg_power_kw,
       sum(h.production_units)::bigint AS production_units, sum(h.good_units)::bigint AS good_units,
       sum(h.cost) AS cost, max(h.currency) AS currency, sum(h.co2_kg) AS co2_kg,
       count(*) AS hours_reported,
       o.outdoor_temp_c,
       greatest(0, 18 - o.outdoor_temp_c) AS hdd,
       greatest(0, o.outdoor_temp_c - 18) AS cdd
  FROM mv_machine_hourly h
  LEFT JOIN outdoor o ON o.factory_id = h.factory_id AND o.local_date = h.local_date
 GROUP BY h.machine_id, h.factory_id, h.local_date, o.outdoor_temp_c;
CREATE UNIQUE INDEX IF NOT EXISTS mv_machine_daily_key ON mv_machine_daily (machine_id, local_date);

-- Per machine, local day and shift (production_data.shift), from the raw readings of the last
-- 35 days (energy and production rows of one reading share their time): what "shift against
-- shift" compares.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_shift_daily AS
SELECT p.machine_id, m.factory_id, (p.time AT TIME ZONE f.timezone)::date AS local_date,
       coalesce(p.shift, 'none') AS shift,
       sum(e.energy_kwh) AS energy_kwh,
       sum(p.production_count)::bigint AS production_units,
       count(*) AS readings,
       sum(e.energy_kwh) / nullif(sum(p.production_count), 0) AS sec_kwh_per_unit
  FROM production_data p
  JOIN energy_readings e ON e.machine_id = p.machine_id AND e.time = p.time AND e.energy_type = 'electrical'
  JOIN machines m ON m.id = p.machine_id
  JOIN factories f ON f.id = m.factory_id
 WHERE p.time >= now() - interval '35 days'
 GROUP BY 1, 2, 3, 4;
CREATE UNIQUE INDEX IF NOT EXISTS mv_shift_daily_key ON mv_shift_daily (machine_id, local_date, shift);

-- Refreshes the materialized views in dependency order, CONCURRENTLY once populated (readers
-- are never blocked); returns how many were refreshed.
CREATE OR REPLACE FUNCTION refresh_enms_views() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v text;
  n integer := 0;
BEGIN
  FOREACH v IN ARRAY ARRAY['mv_machine_hourly', 'mv_machine_daily', 'mv_shift_daily'] LOOP
    IF (SELECT relispopulated FROM pg_class WHERE oid = v::regclass) THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v::regclass);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', v::regclass);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

-- Dashboard summaries: today, this week (from Monday) and this month, on each factory's clock,
-- per machine and per factory.
CREATE OR REPLACE FUNCTION enms_period_summary(p_period text)
RETURNS TABLE (factory_id uuid, factory_name text, machine_id uuid, machine_name text,
               period_start date, energy_kwh double precision, avg_power_kw double precision,
               peak_power_kw double precision, production_units bigint, sec_kwh_per_unit double precision,
               cost double precision, currency text, co2_kg double precision)
LANGUAGE sql STABLE AS $$
  SELECT f.id, f.name, m.id, m.name, s.start, sum(d.energy_kwh),
         sum(d.avg_power_kw * d.hours_reported) / nullif(sum(d.hours_reported), 0),
         max(d.peak_power_kw), coalesce(sum(d.production_units), 0)::bigint,
         sum(d.energy_kwh) / nullif(sum(d.production_units), 0), sum(d.cost), max(d.currency), sum(d.co2_kg)
    FROM machines m
    JOIN factories f ON f.id = m.factory_id
    CROSS JOIN LATERAL (SELECT date_trunc(p_period, (now() AT TIME ZONE f.timezone))::date AS start) s
    LEFT JOIN mv_machine_daily d ON d.machine_id = m.id AND d.local_date >= s.start
   WHERE m.is_active
   GROUP BY f.id, f.name, m.id, m.name, s.start
$$;

CREATE OR REPLACE VIEW v_machine_summary_today AS SELECT * FROM enms_period_summary('day');
CREATE OR REPLACE VIEW v_machine_summary_week AS SELECT * FROM enms_period_summary('week');
CREATE OR REPLACE VIEW v_machine_summary_month AS SELECT * FROM enms_period_summary('month');

CREATE OR REPLACE FUNCTION enms_factory_summary(p_period text)
RETURNS TABLE (factory_id uuid, factory_name text, period_start date, machines bigint,
               energy_kwh double precision, peak_power_kw double precision, production_units bigint,
               sec_kwh_per_unit double precision, cost double precision, currency text,
               co2_kg double precision)
LANGUAGE sql STABLE AS $$
  SELECT s.factory_id, s.factory_name, s.period_start, count(*), sum(s.energy_kwh), max(s.peak_power_kw),
         sum(s.production_units)::bigint, sum(s.energy_kwh) / nullif(sum(s.production_units), 0),
         sum(s.cost), max(s.currency), sum(s.co2_kg)
    FROM enms_period_summary(p_period) s
   GROUP BY s.factory_id, s.factory_name, s.period_start
$$;

CREATE OR REPLACE VIEW v_factory_summary_today AS SELECT * FROM enms_factory_summary('day');
CREATE OR REPLACE VIEW v_factory_summary_week AS SELECT * FROM enms_factory_summary('week');
CREATE OR REPLACE VIEW v_factory_summary_month AS SELECT * FROM enms_factory_summary('month');

-- Factory against factory over the last 30 complete local days: totals, intensity, shares.
CREATE OR REPLACE VIEW v_factory_comparison AS
SELECT d.factory_id, f.name AS factory_name, sum(d.energy_kwh) AS energy_kwh,
       sum(d.production_units)::bigint AS production_units,
       sum(d.energy_kwh) / nullif(sum(d.production_units), 0) AS sec_kwh_per_unit,
       sum(d.cost) AS cost, max(d.currency) AS currency, sum(d.co2_kg) AS co2_kg,
       sum(d.energy_kwh) / nullif(sum(sum(d.energy_kwh)) OVER (), 0) AS energy_share,
       rank() OVER (ORDER BY sum(d.energy_kwh) / nullif(sum(d.production_units), 0) NULLS LAST) AS efficiency_rank
  FROM mv_machine_daily d
  JOIN factories f ON f.id = d.factory_id
 WHERE d.local_date >= (now() AT TIME ZONE f.timezone)::date - 30
   AND d.local_date < (now() AT TIME ZONE f.timezone)::date
 GROUP BY d.factory_id, f.name;

-- Shift against shift per factory over the last 30 local days.
CREATE OR REPLACE VIEW v_shift_comparison AS
SELECT s.factory_id, f.name AS factory_name, s.shift, count(DISTINCT s.local_date) AS days,
       sum(s.energy_kwh) AS energy_kwh, sum(s.production_units)::bigint AS production_units,
       sum(s.energy_kwh) / nullif(sum(s.production_units), 0) AS sec_kwh_per_unit,
       sum(s.energy_kwh) / nullif(sum(sum(s.energy_kwh)) OVER (PARTITION BY s.factory_id), 0) AS energy_share
  FROM mv_shift_daily s
  JOIN factories f ON f.id = s.factory_id
 WHERE s.local_date >= (now() AT TIME ZONE f.timezone)::date - 30
 GROUP BY s.factory_id, f.name, s.shift;

-- Cost and emissions per factory and local day.
CREATE OR REPLACE VIEW v_cost_emissions_daily AS
SELECT d.factory_id, f.name AS factory_name, d.local_date, sum(d.energy_kwh) AS energy_kwh,
       sum(d.cost) AS cost, max(d.currency) AS currency, sum(d.co2_kg) AS co2_kg,
       sum(d.cost) / nullif(sum(d.production_units), 0) AS cost_per_unit,
       sum(d.co2_kg) / nullif(sum(d.production_units), 0) AS co2_per_unit_kg,
       sum(d.co2_kg) / nullif(sum(d.energy_kwh), 0) AS kg_co2_per_kwh
  FROM mv_machine_daily d
  JOIN factories f ON f.id = d.factory_id
 GROUP BY d.factory_id, f.name, d.local_date;

-- Grafana-ready time series (time, metric, value; the "time series" format of its
-- PostgreSQL data source).
CREATE OR REPLACE VIEW v_grafana_machine_energy_hourly AS
SELECT h.bucket AS time, m.name AS metric, h.energy_kwh AS value, h.machine_id, h.factory_id
  FROM mv_machine_hourly h JOIN machines m ON m.id = h.machine_id;
CREATE OR REPLACE VIEW v_grafana_machine_power_15min AS
SELECT e.bucket AS time, m.name AS metric, e.avg_power_kw AS value, e.machine_id, m.factory_id
  FROM energy_readings_15min e JOIN machines m ON m.id = e.machine_id
 WHERE e.energy_type = 'electrical';
CREATE OR REPLACE VIEW v_grafana_factory_cost_hourly AS
SELECT h.bucket AS time, f.name AS metric, sum(h.cost) AS value, h.factory_id
  FROM mv_machine_hourly h JOIN factories f ON f.id = h.factory_id
 GROUP BY h.bucket, f.name, h.factory_id;
