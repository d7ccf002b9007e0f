-- 070: KPI functions (names and arguments of the EnMS schema, docs/schema.md).
-- Common rules:
--   * ranges are half-open: a row counts when p_start_time <= time < p_end_time;
--   * they read the raw tables (exact for any range, at any millisecond, on both backends,
--     whatever has been refreshed), using the (machine_id, time, ...) unique index;
--   * energy is the sum of energy_kwh of the 'electrical' readings; production the sum of
--     production_count (units finished in each interval);
--   * every function returns exactly one row; values without data are NULL (or 0 for sums).

-- Specific energy consumption: kWh per unit produced (and per good unit).
CREATE OR REPLACE FUNCTION calculate_sec(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz)
RETURNS TABLE (machine_id uuid, sec_kwh_per_unit double precision, total_energy_kwh double precision,
               total_production_units bigint, sec_kwh_per_good_unit double precision,
               total_good_units bigint, time_period_hours double precision)
LANGUAGE sql STABLE AS $$
  WITH e AS (
    SELECT sum(er.energy_kwh) AS kwh FROM energy_readings er
     WHERE er.machine_id = p_machine_id AND er.time >= p_start_time AND er.time < p_end_time
       AND er.energy_type = 'electrical'),
  p AS (
    SELECT sum(pd.production_count)::bigint AS units, sum(pd.production_count_good)::bigint AS good
      FROM production_data pd
     WHERE pd.machine_id = p_machine_id AND pd.time >= p_start_time AND pd.time < p_end_time)
  SELECT p_machine_id,
         e.kwh / nullif(p.units, 0),
         coalesce(e.kwh, 0),
         coalesce(p.units, 0),
         e.kwh / nullif(p.good, 0),
         coalesce(p.good, 0),
         extract(epoch FROM p_end_time - p_start_time)::double precision / 3600
    FROM e, p
$$;

-- Peak demand: the highest average power over a clock-aligned 15-minute window (UTC-aligned
-- quarter hours, which are local quarter hours in every time zone), counting the readings
-- inside the range only. peak_time is the start of that window (the earliest on ties);
-- avg_power_kw is the average of every reading in the range.
CREATE OR REPLACE FUNCTION calculate_peak_demand(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz)
RETURNS TABLE (machine_id uuid, peak_demand_kw double precision, peak_time timestamptz,
               avg_power_kw double precision)
LANGUAGE sql STABLE AS $$
  WITH r AS (
    SELECT er.time, er.power_kw FROM energy_readings er
     WHERE er.machine_id = p_machine_id AND er.time >= p_start_time AND er.time < p_end_time
       AND er.energy_type = 'electrical' AND er.power_kw IS NOT NULL),
  w AS (
    SELECT date_bin('15 minutes', r.time, timestamptz '2000-01-01 00:00:00+00') AS window_start,
           avg(r.power_kw) AS demand_kw
      FROM r GROUP BY 1),
  peak AS (SELECT w.window_start, w.demand_kw FROM w ORDER BY w.demand_kw DESC, w.window_start LIMIT 1),
  a AS (SELECT avg(r.power_kw) AS avg_kw FROM r)
  SELECT p_machine_id, peak.demand_kw, peak.window_start, a.avg_kw
    FROM a LEFT JOIN peak ON true
$$;

-- Load factor: average demand / peak demand (the 15-minute peak of calculate_peak_demand).
-- max_power_kw is the highest single reading, for reference.
CREATE OR REPLACE FUNCTION calculate_load_factor(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz)
RETURNS TABLE (machine_id uuid, load_factor double precision, load_factor_percent double precision,
               avg_power_kw double precision, peak_demand_kw double precision, max_power_kw double precision)
LANGUAGE sql STABLE AS $$
  SELECT p_machine_id,
         pk.avg_power_kw / nullif(pk.peak_demand_kw, 0),
         100 * pk.avg_power_kw / nullif(pk.peak_demand_kw, 0),
         pk.avg_power_kw,
         pk.peak_demand_kw,
         (SELECT max(er.power_kw) FROM energy_readings er
           WHERE er.machine_id = p_machine_id AND er.time >= p_start_time AND er.time < p_end_time
             AND er.energy_type = 'electrical')
    FROM calculate_peak_demand(p_machine_id, p_start_time, p_end_time) pk
$$;

-- The tariff that prices energy consumed in one local hour of a factory: active, valid at
-- that hour, applying to its weekday and hour; time of use wins over flat, then the latest
-- valid_from, then the higher rate.
CREATE OR REPLACE FUNCTION tariff_at(p_factory_id uuid, p_local_hour timestamp, p_timezone text)
RETURNS TABLE (tariff_id uuid, rate_per_kwh double precision, currency text, demand_charge_per_kw double precision)
-- Its own search_path: PostgreSQL 17 refreshes materialized views (110) with search_path =
-- pg_catalog, where energy_tariffs would not be found.
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT et.id, et.rate_per_kwh, et.currency, et.demand_charge_per_kw
    FROM energy_tariffs et
   WHERE et.factory_id = p_factory_id AND et.is_active
     AND et.valid_from <= (p_local_hour AT TIME ZONE p_timezone)
     AND (et.valid_to IS NULL OR et.valid_to > (p_local_hour AT TIME ZONE p_timezone))
     AND (NOT et.is_time_of_use OR (
           (cardinality(et.applicable_days) = 0 OR extract(dow FROM p_local_hour)::integer = ANY (et.applicable_days))
           AND CASE WHEN et.start_hour < et.end_hour
                    THEN extract(hour FROM p_local_hour) >= et.start_hour AND extract(hour FROM p_local_hour) < et.end_hour
                    ELSE extract(hour FROM p_local_hour) >= et.start_hour OR extract(hour FROM p_local_hour) < et.end_hour
               END))
   ORDER BY et.is_time_of_use DESC, et.valid_from DESC, et.rate_per_kwh DESC
   LIMIT 1
$$;

-- Energy cost under the factory's tariffs (the machine's factory unless p_factory_id is
-- given). Readings are grouped by hour of the factory's local clock (time zone and DST from
-- factories.timezone) and each hour is priced by tariff_at(); a tariff change takes effect at
-- a local hour boundary. Energy of hours that no tariff covers is reported in
-- unpriced_energy_kwh and not priced. demand_charge = peak_demand_kw x the highest
-- demand_charge_per_kw among the tariffs used (a billing-period charge: meaningful when the
-- range is one billing period). total_cost = energy_cost + demand_charge.
CREATE OR REPLACE FUNCTION calculate_energy_cost(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz,
                                                 p_factory_id uuid DEFAULT NULL)
RETURNS TABLE (machine_id uuid, total_cost double precision, total_energy_kwh double precision,
               avg_rate_per_kwh double precision, currency text, energy_cost double precision,
               demand_charge double precision, unpriced_energy_kwh double precision, factory_id uuid)
LANGUAGE sql STABLE AS $$
  WITH f AS (
    SELECT fa.id, fa.timezone FROM factories fa
     WHERE fa.id = coalesce(p_factory_id, (SELECT m.factory_id FROM machines m WHERE m.id = p_machine_id))),
  h AS (
    SELECT date_trunc('hour', er.time AT TIME ZONE f.timezone) AS local_hour, sum(er.energy_kwh) AS kwh
      FROM energy_readings er, f
     WHERE er.machine_id = p_machine_id AND er.time >= p_start_time AND er.time < p_end_time
       AND er.energy_type = 'electrical'
     GROUP BY 1),
  priced AS (
    SELECT h.kwh, t.rate_per_kwh, t.currency, t.demand_charge_per_kw
      FROM h CROSS JOIN f LEFT JOIN LATERAL tariff_at(f.id, h.local_hour, f.timezone) t ON true),
  totals AS (
    SELECT sum(kwh * rate_per_kwh) AS cost,
           sum(kwh) AS kwh,
           sum(kwh) FILTER (WHERE rate_per_kwh IS NOT NULL) AS priced_kwh,
           sum(kwh) FILTER (WHERE rate_per_kwh IS NULL) AS unpriced_kwh,
           min(currency) AS currency,
           max(demand_charge_per_kw) AS demand_rate
      FROM priced),
  dc AS (
    SELECT coalesce(pk.peak_demand_kw * totals.demand_rate, 0) AS charge
      FROM totals, calculate_peak_demand(p_machine_id, p_start_time, p_end_time) pk)
  SELECT p_machine_id,
         coalesce(totals.cost, 0) + dc.charge,
         coalesce(totals.kwh, 0),
         totals.cost / nullif(totals.priced_kwh, 0),
         totals.currency,
         coalesce(totals.cost, 0),
         dc.charge,
         coalesce(totals.unpriced_kwh, 0),
         (SELECT f.id FROM f)
    FROM totals, dc
$$;

-- The emission factor of a region at an instant (active, valid, latest valid_from), falling
-- back to region 'default' when the region has none.
CREATE OR REPLACE FUNCTION carbon_factor_at(p_region text, p_at timestamptz) RETURNS double precision
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$  -- search_path: see tariff_at
  SELECT cf.emission_factor_kg_co2_per_kwh
    FROM carbon_factors cf
   WHERE cf.region IN (p_region, 'default') AND cf.is_active
     AND cf.valid_from <= p_at AND (cf.valid_to IS NULL OR cf.valid_to > p_at)
   ORDER BY (cf.region = p_region) DESC, cf.valid_from DESC
   LIMIT 1
$$;

-- Carbon: kg CO2 of the energy in the range (factor of each UTC hour; region = p_region, else
-- the factory's carbon_region, else 'default'), and kg per unit produced.
-- emission_factor is the effective kg CO2 per kWh over the range.
CREATE OR REPLACE FUNCTION calculate_carbon_intensity(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz,
                                                      p_region text DEFAULT NULL)
RETURNS TABLE (machine_id uuid, total_co2_kg double precision, total_energy_kwh double precision,
               emission_factor double precision, co2_per_unit_kg double precision, region text,
               total_production_units bigint)
LANGUAGE sql STABLE AS $$
  WITH reg AS (
    SELECT coalesce(p_region,
                    (SELECT fa.carbon_region FROM machines m JOIN factories fa ON fa.id = m.factory_id
                      WHERE m.id = p_machine_id),
                    'default') AS region),
  h AS (
    SELECT date_trunc('hour', er.time) AS hour_start, sum(er.energy_kwh) AS kwh
      FROM energy_readings er
     WHERE er.machine_id = p_machine_id AND er.time >= p_start_time AND er.time < p_end_time
       AND er.energy_type = 'electrical'
     GROUP BY 1),
  totals AS (
    SELECT sum(h.kwh * carbon_factor_at(reg.region, h.hour_start)) AS co2, sum(h.kwh) AS kwh
      FROM h, reg),
  p AS (
    SELECT sum(pd.production_count)::bigint AS units FROM production_data pd
     WHERE pd.machine_id = p_machine_id AND pd.time >= p_start_time AND pd.time < p_end_time)
  SELECT p_machine_id,
         coalesce(totals.co2, 0),
         coalesce(totals.kwh, 0),
         totals.co2 / nullif(totals.kwh, 0),
         totals.co2 / nullif(p.units, 0),
         reg.region,
         coalesce(p.units, 0)
    FROM totals, p, reg
$$;

-- Every KPI of one machine over one range, in one row.
CREATE OR REPLACE FUNCTION calculate_all_kpis(p_machine_id uuid, p_start_time timestamptz, p_end_time timestamptz)
RETURNS TABLE (machine_id uuid, machine_name text, time_period_hours double precision,
               total_energy_kwh double precision, avg_power_kw double precision,
               peak_demand_kw double precision, peak_time timestamptz,
               total_production_units bigint, sec_kwh_per_unit double precision,
               load_factor double precision, load_factor_percent double precision,
               total_cost double precision, currency text, cost_per_unit double precision,
               total_co2_kg double precision, co2_per_unit_kg double precision)
LANGUAGE sql STABLE AS $$
  SELECT p_machine_id,
         (SELECT m.name FROM machines m WHERE m.id = p_machine_id),
         s.time_period_hours,
         s.total_energy_kwh,
         pk.avg_power_kw,
         pk.peak_demand_kw,
         pk.peak_time,
         s.total_production_units,
         s.sec_kwh_per_unit,
         pk.avg_power_kw / nullif(pk.peak_demand_kw, 0),
         100 * pk.avg_power_kw / nullif(pk.peak_demand_kw, 0),
         c.total_cost,
         c.currency,
         c.total_cost / nullif(s.total_production_units, 0),
         co.total_co2_kg,
         co.co2_per_unit_kg
    FROM calculate_sec(p_machine_id, p_start_time, p_end_time) s,
         calculate_peak_demand(p_machine_id, p_start_time, p_end_time) pk,
         calculate_energy_cost(p_machine_id, p_start_time, p_end_time) c,
         calculate_carbon_intensity(p_machine_id, p_start_time, p_end_time) co
$$;
