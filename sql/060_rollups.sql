-- 060: rollups, same names and columns on both backends, each level computed from the one
-- below (1 min from raw rows, 15 min from 1 min, 1 hour from 15 min, 1 day from 1 hour):
--   energy_readings_1min / _15min / _1hour / _1day
--   production_data_1min / _15min / _1hour / _1day
--   environmental_data_1min / _15min / _1hour
-- TimescaleDB: hierarchical continuous aggregates with refresh policies.
-- PostgreSQL:  ordinary tables refreshed by refresh_rollups(from, to) (see docs/schema.md).
-- Buckets are UTC-aligned (a 1-day bucket is a UTC day). Averages of a higher level are
-- weighted by sample_count, so they equal the average over the raw rows.
-- One definition (rollup_definitions + rollup_query) builds both, so they cannot drift.

CREATE OR REPLACE FUNCTION rollup_definitions()
RETURNS TABLE (name text, level integer, source text, time_column text, width interval,
               group_keys text, select_list text, start_offset interval, end_offset interval,
               schedule_interval interval)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  env_keys text[] := ARRAY['outdoor_temp_c', 'indoor_temp_c', 'machine_temp_c',
    'outdoor_humidity_percent', 'indoor_humidity_percent', 'pressure_bar',
    'pressure_setpoint_bar', 'flow_rate_m3h', 'supply_air_temp_c', 'return_air_temp_c',
    'chilled_water_supply_temp_c', 'chilled_water_return_temp_c', 'cop', 'vibration_mm_s'];
  energy_raw text := 'count(power_kw) AS sample_count, avg(power_kw) AS avg_power_kw, '
    'min(power_kw) AS min_power_kw, max(power_kw) AS max_power_kw, '
    'sum(energy_kwh) AS total_energy_kwh, avg(voltage_v) AS avg_voltage_v, '
    'avg(current_a) AS avg_current_a, avg(power_factor) AS avg_power_factor, '
    'avg(frequency_hz) AS avg_frequency_hz, max(energy_total_kwh) AS max_energy_total_kwh';
  energy_up text := 'sum(sample_count)::bigint AS sample_count, '
    'sum(avg_power_kw * sample_count) / nullif(sum(sample_count), 0) AS avg_power_kw, '
    'min(min_power_kw) AS min_power_kw, max(max_power_kw) AS max_power_kw, '
    'sum(total_energy_kwh) AS total_energy_kwh, '
    'sum(avg_voltage_v * sample_count) / nullif(sum(sample_count), 0) AS avg_voltage_v, '
    'sum(avg_current_a * sample_count) / nullif(sum(sample_count), 0) AS avg_current_a, '
    'sum(avg_power_factor * sample_count) / nullif(sum(sample_count), 0) AS avg_power_factor, '
    'sum(avg_frequency_hz * sample_count) / nullif(sum(sample_count), 0) AS avg_frequency_hz, '
    'max(max_energy_total_kwh) AS max_energy_total_kwh';
  production_raw text := 'count(*) AS sample_count, '
    'sum(production_count)::bigint AS total_production_count, '
    'sum(production_count_good)::bigint AS total_production_good, '
    'sum(production_count_bad)::bigint AS total_production_bad, '
    'avg(throughput_units_per_hour) AS avg_throughput_units_per_hour, '
    'avg(speed_percent) AS avg_speed_percent, '
    'sum(CASE WHEN operating_mode = ''running'' THEN 1 ELSE 0 END)::bigint AS running_samples';
  production_up text := 'sum(sample_count)::bigint AS sample_count, '
    'sum(total_production_count)::bigint AS total_production_count, '
    'sum(total_production_good)::bigint AS total_production_good, '
    'sum(total_production_bad)::bigint AS total_production_bad, '
    'sum(avg_throughput_units_per_hour * sample_count) / nullif(sum(sample_count), 0) AS avg_throughput_units_per_hour, '
    'sum(avg_speed_percent * sample_count) / nullif(sum(sample_count), 0) AS avg_speed_percent, '
    'sum(running_samples)::bigint AS running_samples';
  env_raw text;
  env_up text;
BEGIN
  SELECT 'count(*) AS sample_count, '
         || string_agg(format('avg(%1$I) AS %2$I', k, 'avg_' || k), ', ')
         || ', max(machine_temp_c) AS max_machine_temp_c, max(vibration_mm_s) AS max_vibration_mm_s'
    INTO env_raw FROM unnest(env_keys) AS k;
  SELECT 'sum(sample_count)::bigint AS sample_count, '
         || string_agg(format('sum(%1$I * sample_count) / nullif(sum(sample_count), 0) AS %1$I', 'avg_' || k), ', ')
         || ', max(max_machine_temp_c) AS max_machine_temp_c, max(max_vibration_mm_s) AS max_vibration_mm_s'
    INTO env_up FROM unnest(env_keys) AS k;
  RETURN QUERY SELECT * FROM (VALUES
    ('energy_readings_1min',  1, 'energy_readings',       'time',   interval '1 minute',   'machine_id, energy_type', energy_raw, interval '3 hours', interval '1 minute',  interval '1 minute'),
    ('energy_readings_15min', 2, 'energy_readings_1min',  'bucket', interval '15 minutes', 'machine_id, energy_type', energy_up,  interval '6 hours', interval '5 minutes',  interval '5 minutes'),
    ('energy_readings_1hour', 3, 'energy_readings_15min', 'bucket', interval '1 hour',     'machine_id, energy_type', energy_up,  interval '2 days',  interval '30 minutes', interval '15 minutes'),
    ('energy_readings_1day',  4, 'energy_readings_1hour', 'bucket', interval '1 day',      'machine_id, energy_type', energy_up,  interval '7 days',  interval '2 hours',    interval '1 hour'),
    ('production_data_1min',  1, 'production_data',       'time',   interval '1 minute',   'machine_id', production_raw, interval '3 hours', interval '1 minute',  interval '1 minute'),
    ('production_data_15min', 2, 'production_data_1min',  'bucket', interval '15 minutes', 'machine_id', production_up,  interval '6 hours', interval '5 minutes',  interval '5 minutes'),
    ('production_data_1hour', 3, 'production_data_15min', 'bucket', interval '1 hour',     'machine_id', production_up,  interval '2 days',  interval '30 minutes', interval '15 minutes'),
    ('production_data_1day',  4, 'production_data_1hour', 'bucket', interval '1 day',      'machine_id', production_up,  interval '7 days',  interval '2 hours',    interval '1 hour'),
    ('environmental_data_1min',  1, 'environmental_data',       'time',   interval '1 minute',   'machine_id', env_raw, interval '3 hours', interval '1 minute',  interval '1 minute'),
    ('environmental_data_15min', 2, 'environmental_data_1min',  'bucket', interval '15 minutes', 'machine_id', env_up,  interval '6 hours', interval '5 minutes',  interval '5 minutes'),
    ('environmental_data_1hour', 3, 'environmental_data_15min', 'bucket', interval '1 hour',     'machine_id', env_up,  interval '2 days',  interval '30 minutes', interval '15 minutes')
  ) AS d;
END $$;

-- The SELECT of one rollup. `bucket_fn` is 'time_bucket' (continuous aggregates) or
-- 'date_bin' (plain tables; same UTC-aligned buckets for these widths); `where_clause` is
-- empty or 'WHERE ...'.
CREATE OR REPLACE FUNCTION rollup_query(p_name text, bucket_fn text, where_clause text DEFAULT '')
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  d record;
  bucket_expr text;
BEGIN
  SELECT * INTO d FROM rollup_definitions() AS r WHERE r.name = p_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown rollup %', p_name;
  END IF;
  IF bucket_fn = 'time_bucket' THEN
    bucket_expr := format('time_bucket(%L::interval, %I)', d.width, d.time_column);
  ELSE
    bucket_expr := format('date_bin(%L::interval, %I, %L::timestamptz)', d.width, d.time_column,
                          '2000-01-01 00:00:00+00');
  END IF;
  RETURN format('SELECT %s AS bucket, %s, %s FROM %I %s GROUP BY %s, %s',
                bucket_expr, d.group_keys, d.select_list, d.source, where_clause, bucket_expr, d.group_keys);
END $$;

DO $$
DECLARE
  d record;
  ts boolean := factorysim_backend() = 'timescaledb';
BEGIN
  FOR d IN SELECT * FROM rollup_definitions() ORDER BY level, name LOOP
    IF to_regclass(format('%I.%I', current_schema(), d.name)) IS NOT NULL THEN
      CONTINUE;
    END IF;
    IF ts THEN
      -- Real-time aggregation (materialized_only = false): see 095.
      EXECUTE format('CREATE MATERIALIZED VIEW %I WITH (timescaledb.continuous, '
                     'timescaledb.materialized_only = false) AS %s WITH NO DATA',
                     d.name, rollup_query(d.name, 'time_bucket'));
      PERFORM add_continuous_aggregate_policy(format('%I.%I', current_schema(), d.name)::regclass,
                                              start_offset => d.start_offset, end_offset => d.end_offset,
                                              schedule_interval => d.schedule_interval, if_not_exists => true);
    ELSE
      EXECUTE format('CREATE TABLE %I AS %s WITH NO DATA', d.name, rollup_query(d.name, 'date_bin', 'WHERE false'));
      EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (%s, bucket)', d.name, d.group_keys);
      EXECUTE format('CREATE INDEX %I ON %I (bucket)', d.name || '_bucket_idx', d.name);
    END IF;
  END LOOP;
END $$;

-- Plain PostgreSQL: recomputes every bucket of every rollup that overlaps [p_from, p_to),
-- level by level (each from the level below), inside the caller's transaction: delete the
-- buckets of the range, insert them again. Idempotent. Rows of a lower level outside the
-- range are taken as they are (as TimescaleDB's hierarchical aggregates do), so call it
-- with a range covering every raw row that changed. The 1-minute level never reaches back
-- before the retention horizon (apply_retention), so dropped raw data never empties kept
-- rollups. Returns one row per rollup with the number of buckets written.
-- TimescaleDB: raises with a hint; there, use CALL refresh_continuous_aggregate (or the
-- policies, or `factorysim db maintain`), which cannot run inside a function.
CREATE OR REPLACE FUNCTION refresh_rollups(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (rollup text, buckets bigint)
LANGUAGE plpgsql AS $$
DECLARE
  d record;
  origin constant timestamptz := '2000-01-01 00:00:00+00';
  horizon timestamptz;
  lo timestamptz;
  hi timestamptz;
  n bigint;
BEGIN
  IF factorysim_backend() = 'timescaledb' THEN
    RAISE EXCEPTION 'refresh_rollups() is the plain-PostgreSQL refresh; this database uses TimescaleDB'
      USING HINT = 'CALL refresh_continuous_aggregate(''energy_readings_1min'', from, to) and then each higher level, or run `factorysim db maintain`';
  END IF;
  SELECT value::timestamptz INTO horizon FROM factorysim_settings WHERE key = 'raw_retention_horizon';
  FOR d IN SELECT * FROM rollup_definitions() ORDER BY level, name LOOP
    lo := date_bin(d.width, p_from, origin);
    hi := date_bin(d.width, p_to, origin);
    IF hi < p_to THEN
      hi := hi + d.width;
    END IF;
    IF d.level = 1 AND horizon IS NOT NULL AND lo < horizon THEN
      lo := date_bin(d.width, horizon, origin);
      IF lo < horizon THEN
        lo := lo + d.width;
      END IF;
    END IF;
    IF hi <= lo THEN
      rollup := d.name; buckets := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    EXECUTE format('DELETE FROM %I WHERE bucket >= $1 AND bucket < $2', d.name) USING lo, hi;
    EXECUTE format('INSERT INTO %I %s', d.name,
                   rollup_query(d.name, 'date_bin', format('WHERE %1$I >= $1 AND %1$I < $2', d.time_column)))
      USING lo, hi;
    GET DIAGNOSTICS n = ROW_COUNT;
    rollup := d.name; buckets := n;
    RETURN NEXT;
  END LOOP;
END $$;
