-- mantis/001: the MANTIS predictive-maintenance metadata (docs/mantis.md). Applied by
-- `factorysim db init --profile enms,mantis` after the EnMS migrations, with search_path =
-- <mantis schema>, <EnMS schema>, public: objects go to the MANTIS schema, and the EnMS
-- helpers (factorysim_backend, set_updated_at, ensure_updated_at_trigger, machines) are found
-- behind it (functions keep that search_path: SET search_path FROM CURRENT). UUID keys (gen_random_uuid, core since PostgreSQL 13), foreign keys, updated_at
-- triggers. Idempotent like every migration.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT current_user
);

-- PostGIS when the server has it (factory-floor mapping); plain coordinates always.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')
     AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'factorysim: postgis is available but cannot be created (%); plain coordinates only', SQLERRM;
    END;
  END IF;
END $$;

-- Stable ids: an asset is its EnMS machine (same uuid); a sensor is (machine, payload key).
CREATE OR REPLACE FUNCTION sensor_uuid(p_machine_id uuid, p_signal text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path FROM CURRENT AS $$
  SELECT md5('factorysim-sensor:' || p_machine_id::text || ':' || p_signal)::uuid
$$;

CREATE TABLE IF NOT EXISTS assets (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_code    text NOT NULL UNIQUE,             -- e.g. the machine's MQTT topic
  name          text NOT NULL,
  asset_type    text NOT NULL,                    -- compressor, hvac, motor, pump, injection_molding, ...
  manufacturer  text,
  model         text,
  serial_number text,
  machine_id    uuid UNIQUE REFERENCES machines (id) ON DELETE SET NULL,  -- the EnMS machine
  site          text,                             -- factory name
  location      text,                             -- free text (hall, line)
  latitude      double precision,
  longitude     double precision,
  floor_x_m     double precision,                 -- position on the factory floor
  floor_y_m     double precision,
  criticality   text NOT NULL DEFAULT 'medium' CHECK (criticality IN ('critical', 'high', 'medium', 'low')),
  status        text NOT NULL DEFAULT 'operational' CHECK (status IN ('operational', 'degraded', 'failed', 'maintenance')),
  installed_at  date,
  metadata      jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- geometry(Point, 4326) from latitude/longitude, only where PostGIS exists.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')
     AND NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                     AND table_name = 'assets' AND column_name = 'geom') THEN
    EXECUTE 'ALTER TABLE assets ADD COLUMN geom public.geometry(Point, 4326) GENERATED ALWAYS AS '
            '(CASE WHEN longitude IS NOT NULL AND latitude IS NOT NULL THEN '
            'public.ST_SetSRID(public.ST_MakePoint(longitude, latitude), 4326) END) STORED';
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS sensors (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id            uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  sensor_code         text NOT NULL UNIQUE,       -- <asset_code>/<signal_key>
  name                text NOT NULL,
  signal_key          text NOT NULL,              -- the payload key, e.g. vibration_mm_s
  sensor_type         text NOT NULL,              -- vibration, temperature, current, power, ...
  unit                text,
  protocol            text NOT NULL DEFAULT 'mqtt' CHECK (protocol IN ('mqtt', 'opcua', 'modbus', 'other')),
  protocol_config     jsonb NOT NULL DEFAULT '{}',  -- e.g. {"topic": "factory/demo/compressor-1/environmental", "key": "vibration_mm_s"}
  sampling_interval_s double precision,
  warning_low         double precision,
  warning_high        double precision,
  critical_low        double precision,
  critical_high       double precision,
  is_active           boolean NOT NULL DEFAULT true,
  metadata            jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sensors_asset_signal_key UNIQUE (asset_id, signal_key)
);

CREATE TABLE IF NOT EXISTS spare_parts (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  part_number    text NOT NULL UNIQUE,
  name           text NOT NULL,
  description    text,
  supplier       text,
  unit_cost      numeric(12, 2),
  currency       text NOT NULL DEFAULT 'USD',
  stock_quantity integer NOT NULL DEFAULT 0 CHECK (stock_quantity >= 0),
  min_stock      integer NOT NULL DEFAULT 0 CHECK (min_stock >= 0),
  lead_time_days integer,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ml_models (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL,
  version      text NOT NULL,
  model_type   text NOT NULL,                      -- anomaly_detection, rul, classification
  algorithm    text,                               -- isolation_forest, lstm, ...
  target       text,
  metrics      jsonb NOT NULL DEFAULT '{}',
  artifact_uri text,
  is_active    boolean NOT NULL DEFAULT false,
  trained_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ml_models_name_version_key UNIQUE (name, version)
);

CREATE TABLE IF NOT EXISTS work_orders (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  work_order_code text NOT NULL,                   -- the simulator's stable id, e.g. WO-...
  asset_id        uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  title           text NOT NULL,
  description     text,
  work_type       text NOT NULL CHECK (work_type IN ('preventive', 'corrective', 'predictive', 'inspection')),
  priority        text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'scheduled', 'in_progress', 'completed', 'cancelled')),
  component       text,
  scheduled_start timestamptz,
  scheduled_end   timestamptz,
  actual_start    timestamptz,
  actual_end      timestamptz,
  estimated_cost  numeric(12, 2),
  actual_cost     numeric(12, 2),
  currency        text NOT NULL DEFAULT 'USD',
  source          text,                            -- simulator, rule, manual, ...
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT work_orders_asset_code_key UNIQUE (asset_id, work_order_code)
);
CREATE INDEX IF NOT EXISTS work_orders_asset_idx ON work_orders (asset_id, status);

-- The anomaly journal (MANTIS's own; EnMS keeps public.anomalies).
CREATE TABLE IF NOT EXISTS anomalies (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id     uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  sensor_id    uuid REFERENCES sensors (id) ON DELETE SET NULL,
  detected_at  timestamptz NOT NULL,
  resolved_at  timestamptz,
  anomaly_type text NOT NULL,
  severity     text NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  score        double precision,                   -- the model's score
  model_id     uuid REFERENCES ml_models (id) ON DELETE SET NULL,
  root_cause   text,
  description  text,
  source       text,                               -- simulator, model, operator
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT mantis_anomalies_asset_type_detected_key UNIQUE (asset_id, anomaly_type, detected_at)
);
CREATE INDEX IF NOT EXISTS anomalies_detected_idx ON anomalies (detected_at DESC);

CREATE TABLE IF NOT EXISTS rul_predictions (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id              uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  component             text,
  predicted_at          timestamptz NOT NULL,
  rul_hours             double precision NOT NULL,
  confidence_low_hours  double precision,
  confidence_high_hours double precision,
  confidence_level      double precision DEFAULT 0.9,
  model_id              uuid REFERENCES ml_models (id) ON DELETE SET NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rul_predictions_asset_idx ON rul_predictions (asset_id, predicted_at DESC);

CREATE TABLE IF NOT EXISTS maintenance_rules (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text NOT NULL UNIQUE,
  asset_id       uuid REFERENCES assets (id) ON DELETE CASCADE,  -- NULL: every asset of asset_type
  asset_type     text,
  rule_type      text NOT NULL CHECK (rule_type IN ('condition', 'time', 'usage')),
  condition      jsonb NOT NULL DEFAULT '{}',      -- e.g. {"sensor": "vibration_mm_s", "above": 7.1}
  interval_hours double precision,                 -- time/usage rules
  priority       text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  action         text NOT NULL DEFAULT 'create_work_order',
  is_active      boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS asset_spare_parts (
  asset_id          uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  spare_part_id     uuid NOT NULL REFERENCES spare_parts (id) ON DELETE CASCADE,
  quantity_required integer NOT NULL DEFAULT 1 CHECK (quantity_required > 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (asset_id, spare_part_id)
);

CREATE TABLE IF NOT EXISTS work_order_parts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  work_order_id uuid NOT NULL REFERENCES work_orders (id) ON DELETE CASCADE,
  spare_part_id uuid NOT NULL REFERENCES spare_parts (id) ON DELETE RESTRICT,
  quantity      integer NOT NULL CHECK (quantity > 0),
  unit_cost     numeric(12, 2),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS maintenance_history (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id         uuid NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  work_order_id    uuid UNIQUE REFERENCES work_orders (id) ON DELETE SET NULL,
  maintenance_type text NOT NULL,                  -- preventive | corrective | ...
  component        text,
  started_at       timestamptz,
  completed_at     timestamptz,
  health_before    double precision,
  health_after     double precision,
  duration_h       double precision,
  notes            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS kpi_snapshots (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  asset_id     uuid REFERENCES assets (id) ON DELETE CASCADE,  -- NULL: plant-wide
  kpi_name     text NOT NULL,                      -- mtbf_h, mttr_h, availability, oee, ...
  period_start timestamptz NOT NULL,
  period_end   timestamptz NOT NULL,
  value        double precision,
  unit         text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One value per (asset or plant, KPI, period); NULLS NOT DISTINCT would need PostgreSQL 15.
CREATE UNIQUE INDEX IF NOT EXISTS kpi_snapshots_key
  ON kpi_snapshots (coalesce(asset_id, '00000000-0000-0000-0000-000000000000'::uuid), kpi_name, period_start);

SELECT ensure_updated_at_trigger(t) FROM unnest(ARRAY[
  'assets', 'sensors', 'spare_parts', 'ml_models', 'work_orders', 'anomalies', 'rul_predictions',
  'maintenance_rules', 'asset_spare_parts', 'work_order_parts', 'maintenance_history',
  'kpi_snapshots']) AS t;
