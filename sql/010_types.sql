-- 010: enum types of the EnMS schema (docs/schema.md). New labels are only ever added.

DO $$
DECLARE
  spec record;
BEGIN
  FOR spec IN
    SELECT * FROM (VALUES
      ('machine_type',   ARRAY['compressor', 'hvac', 'motor', 'pump', 'injection_molding']),
      ('operating_mode', ARRAY['idle', 'running', 'maintenance', 'fault', 'offline']),
      ('alert_level',    ARRAY['normal', 'warning', 'critical'])) AS s(type_name, labels)
  LOOP
    -- Looked up in the schema we create into, not through search_path.
    IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE t.typname = spec.type_name AND n.nspname = current_schema()) THEN
      EXECUTE format('CREATE TYPE %I AS ENUM (%s)', spec.type_name,
                     (SELECT string_agg(quote_literal(l), ', ') FROM unnest(spec.labels) AS l));
    END IF;
  END LOOP;
END $$;
