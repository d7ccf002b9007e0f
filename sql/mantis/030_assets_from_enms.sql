-- mantis/030: assets and sensors from the EnMS plant. Every EnMS machine is an asset with the
-- machine's own uuid; every payload key the machine's type publishes is a sensor with id
-- sensor_uuid(machine, key). `factorysim db init --profile enms,mantis` calls
-- sync_assets_from_enms() after upserting the scenario; rerunning changes nothing.

-- Which keys each machine type measures (docs/topics.md; what the simulator publishes), with
-- a MANTIS sensor type and unit, and warning/critical upper limits where a standard gives
-- one (vibration: ISO 10816-3 class II zones B/C and C/D).
CREATE TABLE IF NOT EXISTS signal_catalog (
  machine_type  text NOT NULL,                     -- machines.type, or '*' for every type
  signal_key    text NOT NULL,
  stream        text NOT NULL CHECK (stream IN ('energy', 'production', 'environmental')),
  sensor_type   text NOT NULL,
  unit          text,
  warning_high  double precision,
  critical_high double precision,
  PRIMARY KEY (machine_type, signal_key)
);
INSERT INTO signal_catalog VALUES
  ('*', 'power_kw', 'energy', 'power', 'kW', NULL, NULL),
  ('*', 'energy_kwh', 'energy', 'energy', 'kWh', NULL, NULL),
  ('*', 'energy_total_kwh', 'energy', 'energy_meter', 'kWh', NULL, NULL),
  ('*', 'voltage_v', 'energy', 'voltage', 'V', NULL, NULL),
  ('*', 'current_a', 'energy', 'current', 'A', NULL, NULL),
  ('*', 'power_factor', 'energy', 'power_factor', NULL, NULL, NULL),
  ('*', 'frequency_hz', 'energy', 'frequency', 'Hz', NULL, NULL),
  ('*', 'production_count', 'production', 'counter', 'units', NULL, NULL),
  ('*', 'production_count_good', 'production', 'counter', 'units', NULL, NULL),
  ('*', 'production_count_bad', 'production', 'counter', 'units', NULL, NULL),
  ('*', 'throughput_units_per_hour', 'production', 'throughput', 'units/h', NULL, NULL),
  ('*', 'speed_percent', 'production', 'speed', '%', NULL, NULL),
  ('*', 'machine_temp_c', 'environmental', 'temperature', '°C', 80, 95),
  ('*', 'vibration_mm_s', 'environmental', 'vibration', 'mm/s', 4.5, 7.1),
  -- condition monitoring (sql/044): alarm limits of common practice where one exists
  -- (bearing RTD 90/105 C, NEMA MG 1 unbalance 5 %, envelope 1/3 gE, kurtosis 4/6)
  ('*', 'bearing_temp_c', 'environmental', 'temperature', '°C', 90, 105),
  ('*', 'vibration_1x_mm_s', 'environmental', 'vibration', 'mm/s', NULL, NULL),
  ('*', 'vibration_2x_mm_s', 'environmental', 'vibration', 'mm/s', NULL, NULL),
  ('*', 'vibration_accel_peak_g', 'environmental', 'vibration', 'g', NULL, NULL),
  ('*', 'vibration_crest_factor', 'environmental', 'vibration', NULL, 5, 7),
  ('*', 'vibration_kurtosis', 'environmental', 'vibration', NULL, 4, 6),
  ('*', 'vibration_bearing_defect_ge', 'environmental', 'vibration', 'gE', 1, 3),
  ('*', 'current_l1_a', 'energy', 'current', 'A', NULL, NULL),
  ('*', 'current_l2_a', 'energy', 'current', 'A', NULL, NULL),
  ('*', 'current_l3_a', 'energy', 'current', 'A', NULL, NULL),
  ('*', 'current_unbalance_percent', 'environmental', 'current', '%', 2, 5),
  ('*', 'run_hours', 'environmental', 'counter', 'h', NULL, NULL),
  ('*', 'start_count', 'environmental', 'counter', 'starts', NULL, NULL),
  ('compressor', 'outdoor_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('compressor', 'pressure_bar', 'environmental', 'pressure', 'bar', NULL, NULL),
  ('compressor', 'pressure_setpoint_bar', 'environmental', 'pressure', 'bar', NULL, NULL),
  ('compressor', 'flow_rate_m3h', 'environmental', 'flow', 'm³/h', NULL, NULL),
  ('pump', 'pressure_bar', 'environmental', 'pressure', 'bar', NULL, NULL),
  ('pump', 'pressure_setpoint_bar', 'environmental', 'pressure', 'bar', NULL, NULL),
  ('pump', 'flow_rate_m3h', 'environmental', 'flow', 'm³/h', NULL, NULL),
  ('motor', 'indoor_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('injection_molding', 'indoor_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('injection_molding', 'pressure_bar', 'environmental', 'pressure', 'bar', NULL, NULL),
  ('hvac', 'outdoor_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'indoor_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'outdoor_humidity_percent', 'environmental', 'humidity', '%', NULL, NULL),
  ('hvac', 'indoor_humidity_percent', 'environmental', 'humidity', '%', NULL, NULL),
  ('hvac', 'supply_air_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'return_air_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'chilled_water_supply_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'chilled_water_return_temp_c', 'environmental', 'temperature', '°C', NULL, NULL),
  ('hvac', 'cop', 'environmental', 'efficiency', NULL, NULL, NULL)
ON CONFLICT (machine_type, signal_key) DO UPDATE SET stream = excluded.stream,
  sensor_type = excluded.sensor_type, unit = excluded.unit, warning_high = excluded.warning_high,
  critical_high = excluded.critical_high
WHERE (signal_catalog.stream, signal_catalog.sensor_type, signal_catalog.unit, signal_catalog.warning_high,
       signal_catalog.critical_high) IS DISTINCT FROM
      (excluded.stream, excluded.sensor_type, excluded.unit, excluded.warning_high, excluded.critical_high);

-- Registers a sensor the catalog did not foresee (a payload key of a known asset); returns its
-- id. The ingestor calls it for keys it meets first, so no measured signal is ever dropped.
CREATE OR REPLACE FUNCTION ensure_sensor(p_machine_id uuid, p_signal text) RETURNS uuid
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v_id uuid := sensor_uuid(p_machine_id, p_signal);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM assets WHERE assets.id = p_machine_id) THEN
    PERFORM sync_assets_from_enms();  -- a machine added after db init
  END IF;
  INSERT INTO sensors (id, asset_id, sensor_code, name, signal_key, sensor_type, protocol_config)
  SELECT v_id, a.id, a.asset_code || '/' || p_signal, a.name || ' ' || p_signal, p_signal, 'other',
         jsonb_build_object('key', p_signal)
    FROM assets a WHERE a.id = p_machine_id
  ON CONFLICT DO NOTHING;
  RETURN v_id;
END $$;

-- Upserts an asset per EnMS machine and a sensor per catalog key; returns rows changed.
CREATE OR REPLACE FUNCTION sync_assets_from_enms() RETURNS integer
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  n integer;
  total integer := 0;
BEGIN
  INSERT INTO assets AS a (id, asset_code, name, asset_type, manufacturer, model, serial_number, machine_id,
                           site, criticality, installed_at)
  SELECT m.id, coalesce(m.mqtt_topic, m.id::text), m.name, m.type::text, m.manufacturer, m.model, m.serial_number,
         m.id, f.name, CASE WHEN m.is_critical THEN 'critical' ELSE 'medium' END, m.installation_date
    FROM machines m JOIN factories f ON f.id = m.factory_id
  ON CONFLICT (id) DO UPDATE SET asset_code = excluded.asset_code, name = excluded.name,
    asset_type = excluded.asset_type, manufacturer = excluded.manufacturer, model = excluded.model,
    serial_number = excluded.serial_number, site = excluded.site, criticality = excluded.criticality,
    installed_at = excluded.installed_at
  WHERE (a.asset_code, a.name, a.asset_type, a.manufacturer, a.model, a.serial_number, a.site, a.criticality,
         a.installed_at) IS DISTINCT FROM
        (excluded.asset_code, excluded.name, excluded.asset_type, excluded.manufacturer, excluded.model,
         excluded.serial_number, excluded.site, excluded.criticality, excluded.installed_at);
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  INSERT INTO sensors AS s (id, asset_id, sensor_code, name, signal_key, sensor_type, unit, protocol,
                            protocol_config, sampling_interval_s, warning_high, critical_high)
  SELECT sensor_uuid(m.id, c.signal_key), m.id, coalesce(m.mqtt_topic, m.id::text) || '/' || c.signal_key,
         m.name || ' ' || c.signal_key, c.signal_key, c.sensor_type, c.unit, 'mqtt',
         jsonb_build_object('topic', m.mqtt_topic || '/' || c.stream, 'key', c.signal_key),
         m.data_interval_seconds, c.warning_high, c.critical_high
    FROM machines m
    JOIN signal_catalog c ON c.machine_type IN ('*', m.type::text)
  ON CONFLICT (id) DO UPDATE SET sensor_code = excluded.sensor_code, name = excluded.name,
    sensor_type = excluded.sensor_type, unit = excluded.unit, protocol_config = excluded.protocol_config,
    sampling_interval_s = excluded.sampling_interval_s, warning_high = excluded.warning_high,
    critical_high = excluded.critical_high
  WHERE (s.sensor_code, s.name, s.sensor_type, s.unit, s.protocol_config, s.sampling_interval_s, s.warning_high,
         s.critical_high) IS DISTINCT FROM
        (excluded.sensor_code, excluded.name, excluded.sensor_type, excluded.unit, excluded.protocol_config,
         excluded.sampling_interval_s, excluded.warning_high, excluded.critical_high);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN total + n;
END $$;
