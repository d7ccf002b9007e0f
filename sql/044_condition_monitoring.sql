-- 044: the condition-monitoring sensors every machine carries (docs/machines.md, "Condition
-- monitoring"): bearing temperature, vibration features, current unbalance, run hours and
-- starts. They arrive on T/environmental beside the process signals; NULL where a publisher
-- does not send them (an older simulator, a plant of the user's own). The per-phase currents
-- arrive on T/energy and go to energy_readings.current_l1_a..l3_a, which 030 already has.
ALTER TABLE environmental_data
  ADD COLUMN IF NOT EXISTS bearing_temp_c              double precision,
  ADD COLUMN IF NOT EXISTS vibration_1x_mm_s           double precision,
  ADD COLUMN IF NOT EXISTS vibration_2x_mm_s           double precision,
  ADD COLUMN IF NOT EXISTS vibration_accel_peak_g      double precision,
  ADD COLUMN IF NOT EXISTS vibration_crest_factor      double precision,
  ADD COLUMN IF NOT EXISTS vibration_kurtosis          double precision,
  ADD COLUMN IF NOT EXISTS vibration_bearing_defect_ge double precision,
  ADD COLUMN IF NOT EXISTS current_unbalance_percent   double precision,
  ADD COLUMN IF NOT EXISTS run_hours                   double precision,
  ADD COLUMN IF NOT EXISTS start_count                 double precision;

-- ISO 10816-3 evaluation zone of an RMS vibration velocity (mm/s, 10-1000 Hz): A newly
-- commissioned, B unrestricted long-term operation, C restricted (plan maintenance), D
-- damage likely. Group 2 (15-300 kW, every demo machine) by default, group 1 (300 kW-50 MW)
-- on request; rigid foundations unless p_flexible.
CREATE OR REPLACE FUNCTION iso10816_zone(p_velocity_mm_s double precision,
                                         p_group integer DEFAULT 2,
                                         p_flexible boolean DEFAULT false)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_velocity_mm_s IS NULL OR p_velocity_mm_s < 0 THEN NULL
    WHEN p_velocity_mm_s < b.ab THEN 'A'
    WHEN p_velocity_mm_s < b.bc THEN 'B'
    WHEN p_velocity_mm_s < b.cd THEN 'C'
    ELSE 'D' END
  FROM (SELECT CASE WHEN p_group = 1 THEN (CASE WHEN p_flexible THEN 3.5 ELSE 2.3 END)
                    ELSE (CASE WHEN p_flexible THEN 2.3 ELSE 1.4 END) END AS ab,
               CASE WHEN p_group = 1 THEN (CASE WHEN p_flexible THEN 7.1 ELSE 4.5 END)
                    ELSE (CASE WHEN p_flexible THEN 4.5 ELSE 2.8 END) END AS bc,
               CASE WHEN p_group = 1 THEN (CASE WHEN p_flexible THEN 11.0 ELSE 7.1 END)
                    ELSE (CASE WHEN p_flexible THEN 7.1 ELSE 4.5 END) END AS cd) b
$$;
