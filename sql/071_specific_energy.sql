-- 071: specific energy per mass of product (kWh/kg), the EnPI of plastics processing
-- (docs/schema.md "Specific energy per kg"). Mass comes from machines.metadata.part_mass_kg
-- (db init writes it for molding machines from the scenario's part_mass_g; set it yourself
-- for any other machine whose units have a mass) times the units produced. NULL ratios when
-- the machine has no part mass or made nothing in the period.
CREATE OR REPLACE FUNCTION calculate_specific_energy(p_machine_id uuid, p_start_time timestamptz,
                                                     p_end_time timestamptz)
RETURNS TABLE (machine_id uuid, part_mass_kg double precision, total_energy_kwh double precision,
               processed_kg double precision, good_kg double precision,
               kwh_per_kg double precision, kwh_per_good_kg double precision)
LANGUAGE sql STABLE AS $$
  SELECT s.machine_id,
         m.part_mass_kg,
         s.total_energy_kwh,
         s.total_production_units * m.part_mass_kg,
         s.total_good_units * m.part_mass_kg,
         s.total_energy_kwh / nullif(s.total_production_units * m.part_mass_kg, 0),
         s.total_energy_kwh / nullif(s.total_good_units * m.part_mass_kg, 0)
    FROM calculate_sec(p_machine_id, p_start_time, p_end_time) s,
         LATERAL (SELECT (mm.metadata ->> 'part_mass_kg')::double precision AS part_mass_kg
                    FROM machines mm WHERE mm.id = p_machine_id) m
$$;
