-- 030: the four time-series tables (three measured streams and the simulator's ground
-- truth). One column set on both backends:
--   TimescaleDB: hypertables, 1-day chunks.
--   PostgreSQL:  declarative range partitions by time, one per UTC day, plus a DEFAULT
--                partition so that no row is ever refused for lack of a partition
--                (ensure_partitions() moves such rows out when it creates their day).
-- The ingestor writes these with binary COPY: keep the column names stable (docs/schema.md).
-- Unique keys include `time`, as both hypertables and partitioned tables require.
--
-- Chunk / partition interval: 1 day. Retention (90 days) and compression (7 days) act on
-- whole chunks, so days make both exact to the day; a day of the demo plant is ~0.8 M rows,
-- and at the 10,000 rows/s floor ~860 M rows (~100 GB with the index) is still one chunk
-- per day that fits the "recent chunks in memory" rule only on big machines: deployments
-- that sustain more than ~2,000 rows/s should call set_chunk_time_interval(..., '6 hours').

-- Foreign keys machine_id -> machines(id) keep unknown machines out, at a price: each COPYed
-- row looks its machine up (measured ~1.5-2x the COPY time on this 2-core machine). A
-- deployment whose ingestor already validates machine ids (ours does) may create the tables
-- without them: SET factorysim.timeseries_fk = 'off' before the first migration
-- (`factorysim db init --no-timeseries-fk`). Existing tables are never changed.
DO $$
DECLARE
  spec record;
  ts boolean := factorysim_backend() = 'timescaledb';
  fk boolean := coalesce(nullif(current_setting('factorysim.timeseries_fk', true), ''), 'on') <> 'off';
  cols text;
BEGIN
  FOR spec IN SELECT * FROM (VALUES
    ('energy_readings', $cols$
      time                timestamptz NOT NULL,
      machine_id          uuid NOT NULL REFERENCES machines (id),
      energy_type         text NOT NULL DEFAULT 'electrical',
      power_kw            double precision,
      energy_kwh          double precision,
      energy_total_kwh    double precision,
      voltage_v           double precision,
      current_a           double precision,
      power_factor        double precision,
      frequency_hz        double precision,
      reactive_power_kvar double precision,
      apparent_power_kva  double precision,
      voltage_l1_v        double precision,
      voltage_l2_v        double precision,
      voltage_l3_v        double precision,
      current_l1_a        double precision,
      current_l2_a        double precision,
      current_l3_a        double precision,
      thd_voltage_percent double precision,
      thd_current_percent double precision,
      quality_score       double precision,
      source              text,
      seq                 bigint,
      CONSTRAINT energy_readings_machine_time_type_key UNIQUE (machine_id, time, energy_type)
    $cols$),
    ('production_data', $cols$
      time                      timestamptz NOT NULL,
      machine_id                uuid NOT NULL REFERENCES machines (id),
      production_count          bigint,
      production_count_good     bigint,
      production_count_bad      bigint,
      throughput_units_per_hour double precision,
      operating_mode            operating_mode,
      speed_percent             double precision,
      shift                     text,
      product_type              text,
      batch_id                  text,
      seq                       bigint,
      CONSTRAINT production_data_machine_time_key UNIQUE (machine_id, time)
    $cols$),
    ('environmental_data', $cols$
      time                        timestamptz NOT NULL,
      machine_id                  uuid NOT NULL REFERENCES machines (id),
      outdoor_temp_c              double precision,
      indoor_temp_c               double precision,
      machine_temp_c              double precision,
      outdoor_humidity_percent    double precision,
      indoor_humidity_percent     double precision,
      pressure_bar                double precision,
      pressure_setpoint_bar       double precision,
      flow_rate_m3h               double precision,
      supply_air_temp_c           double precision,
      return_air_temp_c           double precision,
      chilled_water_supply_temp_c double precision,
      chilled_water_return_temp_c double precision,
      cop                         double precision,
      vibration_mm_s              double precision,
      seq                         bigint,
      CONSTRAINT environmental_data_machine_time_key UNIQUE (machine_id, time)
    $cols$),
    -- The simulator's ground truth (T/truth): what analytics try to estimate. Kept apart from
    -- the measurements so that a model can never read it by accident.
    ('health_truth', $cols$
      time                timestamptz NOT NULL,
      machine_id          uuid NOT NULL REFERENCES machines (id),
      health_index        double precision,      -- 0..1, minimum over the components
      limiting_component  text,                  -- the component with the lowest health
      rul_operating_h     double precision,      -- operating hours to the failure threshold
      rul_calendar_h      double precision,      -- calendar hours to the failure threshold
      failed              boolean,
      active_faults       text[] NOT NULL DEFAULT '{}',   -- fault types active at `time`
      faulted_signals     text[] NOT NULL DEFAULT '{}',   -- payload keys those faults change
      component_health    jsonb NOT NULL DEFAULT '{}',    -- health_<component> keys: {"bearing": 0.93}
      seq                 bigint,
      CONSTRAINT health_truth_machine_time_key UNIQUE (machine_id, time)
    $cols$)) AS s(table_name, columns)
  LOOP
    cols := CASE WHEN fk THEN spec.columns ELSE replace(spec.columns, ' REFERENCES machines (id)', '') END;
    IF to_regclass(format('%I.%I', current_schema(), spec.table_name)) IS NULL THEN
      IF ts THEN
        EXECUTE format('CREATE TABLE %I (%s)', spec.table_name, cols);
        -- No default (time DESC) index: the unique key (machine_id, time, ...) serves the
        -- per-machine range scans, and every extra index costs COPY speed.
        PERFORM create_hypertable(format('%I.%I', current_schema(), spec.table_name)::regclass, 'time',
                                  chunk_time_interval => interval '1 day',
                                  create_default_indexes => false, if_not_exists => true);
      ELSE
        EXECUTE format('CREATE TABLE %I (%s) PARTITION BY RANGE (time)', spec.table_name, cols);
      END IF;
    END IF;
    IF NOT ts AND to_regclass(format('%I.%I', current_schema(), spec.table_name || '_default')) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', spec.table_name || '_default', spec.table_name);
    END IF;
  END LOOP;
END $$;

-- Partitions on plain PostgreSQL: <table>_pYYYYMMDD holds the UTC day [YYYY-MM-DD, +1 day).
-- ensure_day_partitions(parent, from, to) creates the missing days of one range-partitioned
-- table overlapping [p_from, p_to); rows that sat in its DEFAULT partition for such a day are
-- moved into it. Returns the number created. Used for these tables and MANTIS's
-- (docs/mantis.md).
CREATE OR REPLACE FUNCTION ensure_day_partitions(p_parent regclass, p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  nsp text;
  day timestamptz;
  part text;
  created integer := 0;
BEGIN
  SELECT n.nspname, c.relname INTO nsp, parent FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = p_parent;
  day := date_trunc('day', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  WHILE day < p_to LOOP
    part := parent || '_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD');
    IF to_regclass(format('%I.%I', nsp, part)) IS NULL THEN
      -- CREATE ... PARTITION OF needs the parent exclusively anyway; taking it first, in the
      -- order a COPY locks (parent, then partition), serialises concurrent creators without
      -- a deadlock against writers. Writers wait for the (rare, daily) creation.
      EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', nsp, parent);
      IF to_regclass(format('%I.%I', nsp, part)) IS NULL THEN
        EXECUTE format('CREATE TEMP TABLE factorysim_moved (LIKE %I.%I) ON COMMIT DROP', nsp, parent);
        EXECUTE format('WITH moved AS (DELETE FROM %I.%I WHERE time >= $1 AND time < $2 RETURNING *) '
                       'INSERT INTO factorysim_moved SELECT * FROM moved', nsp, parent || '_default')
          USING day, day + interval '1 day';
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                       nsp, part, nsp, parent, day, day + interval '1 day');
        EXECUTE format('INSERT INTO %I.%I SELECT * FROM factorysim_moved', nsp, parent);
        DROP TABLE factorysim_moved;
        created := created + 1;
      END IF;
    END IF;
    day := day + interval '1 day';
  END LOOP;
  RETURN created;
END $$;

-- The days overlapping [p_from, p_to) for the four tables; returns the number created.
-- On TimescaleDB chunks are created by inserts: returns 0.
CREATE OR REPLACE FUNCTION ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  created integer := 0;
BEGIN
  IF factorysim_backend() = 'timescaledb' OR p_to <= p_from THEN
    RETURN 0;
  END IF;
  FOREACH parent IN ARRAY ARRAY['energy_readings', 'production_data', 'environmental_data', 'health_truth'] LOOP
    created := created + ensure_day_partitions(parent::regclass, p_from, p_to);
  END LOOP;
  RETURN created;
END $$;
