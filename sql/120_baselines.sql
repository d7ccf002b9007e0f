-- 120: energy baselines (ISO 50001 EnB/EnPI) and the operations helpers.
--
-- fit_energy_baseline(machine, from, to [, model_name]) fits, by ordinary least squares over
-- the machine's complete local days (>= 20 hours reported) in [from, to), daily energy (kWh)
-- against the day's production (units) and heating/cooling degree days (base 18 °C, from
-- mv_machine_daily), keeping the drivers that vary in the period; stores it in
-- energy_baselines as the next version of model_name (default 'daily_energy'), active, the
-- older versions inactive; returns the row. Raises when there are fewer days than
-- coefficients + 1 or the drivers are collinear.
CREATE OR REPLACE FUNCTION fit_energy_baseline(p_machine_id uuid, p_from date, p_to date,
                                               p_model_name text DEFAULT 'daily_energy')
RETURNS energy_baselines
LANGUAGE plpgsql AS $$
DECLARE
  names text[] := ARRAY['production_units', 'hdd', 'cdd'];
  y double precision[];
  x double precision[];           -- 3 x n, flattened by driver
  n integer;
  feats integer[] := '{}';        -- indexes into names of the drivers kept
  p integer;                      -- coefficients: intercept + drivers
  m double precision[];           -- p x (p + 1) augmented normal equations
  z double precision[];
  beta double precision[];
  i integer; j integer; r integer; c integer; piv integer;
  t double precision; mean double precision; var double precision;
  fit double precision; ss_res double precision := 0; ss_tot double precision := 0; abs_sum double precision := 0;
  coeffs jsonb := '{}';
  tz text;
  result energy_baselines;
BEGIN
  SELECT f.timezone INTO tz FROM machines mm JOIN factories f ON f.id = mm.factory_id WHERE mm.id = p_machine_id;
  IF tz IS NULL THEN
    RAISE EXCEPTION 'fit_energy_baseline: machine % does not exist', p_machine_id;
  END IF;
  SELECT array_agg(d.energy_kwh ORDER BY d.local_date),
         array_agg(coalesce(d.production_units, 0)::double precision ORDER BY d.local_date)
           || array_agg(coalesce(d.hdd, 0) ORDER BY d.local_date)
           || array_agg(coalesce(d.cdd, 0) ORDER BY d.local_date)
    INTO y, x
    FROM mv_machine_daily d
   WHERE d.machine_id = p_machine_id AND d.local_date >= p_from AND d.local_date < p_to
     AND d.hours_reported >= 20 AND d.energy_kwh IS NOT NULL;
  n := coalesce(array_length(y, 1), 0);
  FOR j IN 1..3 LOOP
    mean := 0;
    FOR i IN 1..n LOOP mean := mean + x[(j - 1) * n + i]; END LOOP;
    mean := mean / greatest(n, 1);
    var := 0;
    FOR i IN 1..n LOOP var := var + (x[(j - 1) * n + i] - mean) ^ 2; END LOOP;
    IF n > 1 AND var / (n - 1) > 1e-9 * (1 + mean * mean) THEN
      feats := feats || j;
    END IF;
  END LOOP;
  p := 1 + coalesce(array_length(feats, 1), 0);
  IF n < p + 1 THEN
    RAISE EXCEPTION 'fit_energy_baseline: % complete days of machine % in [%, %), need at least %',
      n, p_machine_id, p_from, p_to, p + 1;
  END IF;
  -- Normal equations (Z'Z) beta = Z'y, Z = [1, drivers...].
  m := array_fill(0::double precision, ARRAY[p * (p + 1)]);
  FOR i IN 1..n LOOP
    z := ARRAY[1::double precision];
    FOR j IN 1..p - 1 LOOP z := z || x[(feats[j] - 1) * n + i]; END LOOP;
    FOR r IN 1..p LOOP
      FOR c IN 1..p LOOP
        m[(r - 1) * (p + 1) + c] := m[(r - 1) * (p + 1) + c] + z[r] * z[c];
      END LOOP;
      m[(r - 1) * (p + 1) + p + 1] := m[(r - 1) * (p + 1) + p + 1] + z[r] * y[i];
    END LOOP;
  END LOOP;
  -- Gauss-Jordan with partial pivoting.
  FOR c IN 1..p LOOP
    piv := c;
    FOR r IN c + 1..p LOOP
      IF abs(m[(r - 1) * (p + 1) + c]) > abs(m[(piv - 1) * (p + 1) + c]) THEN piv := r; END IF;
    END LOOP;
    IF abs(m[(piv - 1) * (p + 1) + c]) < 1e-12 THEN
      RAISE EXCEPTION 'fit_energy_baseline: the drivers of machine % are collinear in [%, %)', p_machine_id, p_from, p_to;
    END IF;
    IF piv <> c THEN
      FOR j IN 1..p + 1 LOOP
        t := m[(c - 1) * (p + 1) + j];
        m[(c - 1) * (p + 1) + j] := m[(piv - 1) * (p + 1) + j];
        m[(piv - 1) * (p + 1) + j] := t;
      END LOOP;
    END IF;
    FOR r IN 1..p LOOP
      IF r <> c THEN
        t := m[(r - 1) * (p + 1) + c] / m[(c - 1) * (p + 1) + c];
        FOR j IN c..p + 1 LOOP
          m[(r - 1) * (p + 1) + j] := m[(r - 1) * (p + 1) + j] - t * m[(c - 1) * (p + 1) + j];
        END LOOP;
      END IF;
    END LOOP;
  END LOOP;
  beta := '{}';
  FOR r IN 1..p LOOP beta := beta || (m[(r - 1) * (p + 1) + p + 1] / m[(r - 1) * (p + 1) + r]); END LOOP;
  FOR j IN 1..p - 1 LOOP coeffs := coeffs || jsonb_build_object(names[feats[j]], beta[j + 1]); END LOOP;
  mean := 0;
  FOR i IN 1..n LOOP mean := mean + y[i]; END LOOP;
  mean := mean / n;
  FOR i IN 1..n LOOP
    fit := beta[1];
    FOR j IN 1..p - 1 LOOP fit := fit + beta[j + 1] * x[(feats[j] - 1) * n + i]; END LOOP;
    ss_res := ss_res + (y[i] - fit) ^ 2;
    abs_sum := abs_sum + abs(y[i] - fit);
    ss_tot := ss_tot + (y[i] - mean) ^ 2;
  END LOOP;
  UPDATE energy_baselines SET is_active = false
   WHERE machine_id = p_machine_id AND model_name = p_model_name AND is_active;
  INSERT INTO energy_baselines (machine_id, model_name, model_version, model_type, features, coefficients,
                                intercept, r_squared, rmse, mae, training_start, training_end,
                                training_samples, is_active)
  SELECT p_machine_id, p_model_name,
         coalesce((SELECT max(model_version) FROM energy_baselines
                    WHERE machine_id = p_machine_id AND model_name = p_model_name), 0) + 1,
         'linear_regression',
         coalesce((SELECT array_agg(names[f] ORDER BY o) FROM unnest(feats) WITH ORDINALITY AS u(f, o)), '{}'),
         coeffs, beta[1], CASE WHEN ss_tot > 0 THEN 1 - ss_res / ss_tot END, sqrt(ss_res / n), abs_sum / n,
         p_from::timestamp AT TIME ZONE tz, p_to::timestamp AT TIME ZONE tz, n, true
  RETURNING * INTO result;
  RETURN result;
END $$;

-- Expected against actual energy per machine and local day under the active baseline of each
-- machine (model 'daily_energy'), with the CUSUM of the deviation from the end of the
-- training period (a falling CUSUM = savings against the baseline).
CREATE OR REPLACE VIEW v_energy_baseline_deviation AS
SELECT d.machine_id, m.name AS machine_name, d.factory_id, d.local_date, b.model_version,
       d.energy_kwh AS actual_kwh, x.expected_kwh, d.energy_kwh - x.expected_kwh AS deviation_kwh,
       (d.energy_kwh - x.expected_kwh) / nullif(x.expected_kwh, 0) * 100 AS deviation_percent,
       d.local_date < (b.training_end AT TIME ZONE f.timezone)::date AS in_training,
       sum(CASE WHEN d.local_date >= (b.training_end AT TIME ZONE f.timezone)::date
                THEN d.energy_kwh - x.expected_kwh ELSE 0 END)
         OVER (PARTITION BY d.machine_id ORDER BY d.local_date) AS cusum_kwh
  FROM mv_machine_daily d
  JOIN machines m ON m.id = d.machine_id
  JOIN factories f ON f.id = d.factory_id
  JOIN energy_baselines b ON b.machine_id = d.machine_id AND b.is_active AND b.model_name = 'daily_energy'
  CROSS JOIN LATERAL (SELECT b.intercept
                             + coalesce((b.coefficients->>'production_units')::double precision, 0) * coalesce(d.production_units, 0)
                             + coalesce((b.coefficients->>'hdd')::double precision, 0) * coalesce(d.hdd, 0)
                             + coalesce((b.coefficients->>'cdd')::double precision, 0) * coalesce(d.cdd, 0)
                             AS expected_kwh) x
 WHERE d.local_date >= (b.training_start AT TIME ZONE f.timezone)::date;

-- Machine against its baseline: the last 30 local days after training, totals and CUSUM.
CREATE OR REPLACE VIEW v_machine_vs_baseline AS
SELECT v.machine_id, v.machine_name, v.factory_id, v.model_version,
       sum(v.actual_kwh) AS actual_kwh, sum(v.expected_kwh) AS expected_kwh,
       sum(v.deviation_kwh) AS deviation_kwh,
       sum(v.deviation_kwh) / nullif(sum(v.expected_kwh), 0) * 100 AS deviation_percent,
       (array_agg(v.cusum_kwh ORDER BY v.local_date DESC))[1] AS cusum_kwh,
       count(*) AS days
  FROM v_energy_baseline_deviation v
  JOIN factories f ON f.id = v.factory_id
 WHERE NOT v.in_training AND v.local_date >= (now() AT TIME ZONE f.timezone)::date - 30
 GROUP BY v.machine_id, v.machine_name, v.factory_id, v.model_version;

-- Operations analysis: hours running / idle / otherwise and the energy drawn in each, per
-- shift and in total ('all'), of one machine over [start, end). A reading covers the
-- machine's data interval; energy and production rows of a reading share their time.
CREATE OR REPLACE FUNCTION machine_operations(p_machine_id uuid, p_start timestamptz, p_end timestamptz)
RETURNS TABLE (shift text, running_hours double precision, idle_hours double precision,
               other_hours double precision, running_energy_kwh double precision,
               idle_energy_kwh double precision, total_energy_kwh double precision)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN grouping(coalesce(p.shift, 'none')) = 1 THEN 'all' ELSE coalesce(p.shift, 'none') END AS shift,
         count(*) FILTER (WHERE p.operating_mode = 'running') * m.data_interval_seconds / 3600,
         count(*) FILTER (WHERE p.operating_mode = 'idle') * m.data_interval_seconds / 3600,
         count(*) FILTER (WHERE p.operating_mode IS DISTINCT FROM 'running' AND p.operating_mode IS DISTINCT FROM 'idle') * m.data_interval_seconds / 3600,
         coalesce(sum(e.energy_kwh) FILTER (WHERE p.operating_mode = 'running'), 0),
         coalesce(sum(e.energy_kwh) FILTER (WHERE p.operating_mode = 'idle'), 0),
         coalesce(sum(e.energy_kwh), 0)
    FROM production_data p
    JOIN machines m ON m.id = p.machine_id
    LEFT JOIN energy_readings e ON e.machine_id = p.machine_id AND e.time = p.time AND e.energy_type = 'electrical'
   WHERE p.machine_id = p_machine_id AND p.time >= p_start AND p.time < p_end
   GROUP BY GROUPING SETS ((coalesce(p.shift, 'none'), m.data_interval_seconds), (m.data_interval_seconds))
   ORDER BY grouping(coalesce(p.shift, 'none')), 1
$$;

-- Scalars of machine_operations' total: operating (running) hours and idle energy.
CREATE OR REPLACE FUNCTION calculate_operating_hours(p_machine_id uuid, p_start timestamptz, p_end timestamptz)
RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT running_hours FROM machine_operations(p_machine_id, p_start, p_end) WHERE shift = 'all'), 0)
$$;
CREATE OR REPLACE FUNCTION calculate_idle_energy(p_machine_id uuid, p_start timestamptz, p_end timestamptz)
RETURNS double precision LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT idle_energy_kwh FROM machine_operations(p_machine_id, p_start, p_end) WHERE shift = 'all'), 0)
$$;
