-- 020: the plant: factories and machines (docs/plant.md, docs/schema.md).

-- Keeps updated_at true on every real change (no-op updates are skipped by the triggers'
-- WHEN clause, so re-running `factorysim db init` changes nothing).
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- Attaches set_updated_at() to a table once (re-running a migration adds nothing).
CREATE OR REPLACE FUNCTION ensure_updated_at_trigger(t text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = t || '_set_updated_at'
                 AND tgrelid = format('%I.%I', current_schema(), t)::regclass) THEN
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW '
                   'WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()',
                   t || '_set_updated_at', t);
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS factories (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL UNIQUE,
  location      text,
  timezone      text NOT NULL DEFAULT 'UTC',      -- IANA name; tariffs and "today" use it
  carbon_region text NOT NULL DEFAULT 'default',  -- carbon_factors.region
  country       text,
  is_active     boolean NOT NULL DEFAULT true,
  metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT factories_timezone_known CHECK (now() AT TIME ZONE timezone IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS machines (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  factory_id            uuid NOT NULL REFERENCES factories (id) ON DELETE RESTRICT,
  name                  text NOT NULL,
  type                  machine_type NOT NULL,
  rated_power_kw        double precision NOT NULL CHECK (rated_power_kw > 0),
  rated_voltage_v       double precision NOT NULL DEFAULT 400,
  rated_current_a       double precision,
  rated_frequency_hz    double precision NOT NULL DEFAULT 50,
  rated_power_factor    double precision,
  data_interval_seconds double precision NOT NULL DEFAULT 1 CHECK (data_interval_seconds > 0),
  mqtt_topic            text,                    -- base topic T; streams are T/energy, ...
  is_active             boolean NOT NULL DEFAULT true,
  is_critical           boolean NOT NULL DEFAULT false,
  manufacturer          text,
  model                 text,
  serial_number         text,
  installation_date     date,
  metadata              jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT machines_factory_name_key UNIQUE (factory_id, name)
);
CREATE INDEX IF NOT EXISTS machines_factory_id_idx ON machines (factory_id);
CREATE UNIQUE INDEX IF NOT EXISTS machines_mqtt_topic_key ON machines (mqtt_topic) WHERE mqtt_topic IS NOT NULL;

SELECT ensure_updated_at_trigger(t) FROM unnest(ARRAY['factories', 'machines']) AS t;
