-- 001: migration ledger, backend choice (TimescaleDB when available, else plain PostgreSQL).
-- Idempotent: every statement may run again. Objects go to the first schema of search_path.

CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text PRIMARY KEY,                 -- file name prefix, e.g. '030'
  name       text NOT NULL,                    -- file name, e.g. '030_timeseries.sql'
  checksum   text NOT NULL,                    -- md5 of the file text as applied
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT current_user
);

-- Settings of this installation; 'backend' is decided once, on the first run, so that a
-- later CREATE EXTENSION cannot flip an existing plain schema into a half-TimescaleDB one.
CREATE TABLE IF NOT EXISTS factorysim_settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE
  wanted text := nullif(current_setting('factorysim.backend', true), '');
  chosen text;
BEGIN
  SELECT value INTO chosen FROM factorysim_settings WHERE key = 'backend';
  IF chosen IS NOT NULL THEN
    RETURN;
  END IF;
  IF wanted IS NOT NULL AND wanted NOT IN ('timescaledb', 'postgresql') THEN
    RAISE EXCEPTION 'factorysim.backend must be timescaledb or postgresql, got %', wanted;
  END IF;
  chosen := 'postgresql';
  IF coalesce(wanted, 'timescaledb') = 'timescaledb' THEN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
      chosen := 'timescaledb';
    ELSIF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
      BEGIN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        chosen := 'timescaledb';
      EXCEPTION WHEN OTHERS THEN
        -- Typically "not in shared_preload_libraries": plain PostgreSQL still works.
        RAISE NOTICE 'factorysim: timescaledb is available but cannot be created (%); using plain PostgreSQL', SQLERRM;
      END;
    END IF;
  END IF;
  IF wanted = 'timescaledb' AND chosen <> 'timescaledb' THEN
    RAISE EXCEPTION 'factorysim.backend = timescaledb but the extension is not available';
  END IF;
  INSERT INTO factorysim_settings (key, value) VALUES ('backend', chosen);
  RAISE NOTICE 'factorysim: backend %', chosen;
END $$;

-- 'timescaledb' or 'postgresql': which implementation of the one schema this database has.
CREATE OR REPLACE FUNCTION factorysim_backend() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT value FROM factorysim_settings WHERE key = 'backend'), 'postgresql')
$$;
