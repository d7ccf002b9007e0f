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

-- Minimum versions: PostgreSQL 14; TimescaleDB 2.11 under its Timescale License (an
-- Apache-only build has no continuous aggregates and no compression, which 060/090 need).
-- A TimescaleDB that does not qualify is not chosen (or, when asked for, refused with the
-- reason): the database runs as plain PostgreSQL.
DO $$
DECLARE
  wanted text := nullif(current_setting('factorysim.backend', true), '');
  chosen text;
  unusable text;
  created boolean := false;
  version text;
BEGIN
  IF current_setting('server_version_num')::integer < 140000 THEN
    RAISE EXCEPTION 'factorysim needs PostgreSQL 14 or newer; this server is %', current_setting('server_version');
  END IF;
  SELECT value INTO chosen FROM factorysim_settings WHERE key = 'backend';
  IF chosen IS NOT NULL THEN
    RETURN;
  END IF;
  IF wanted IS NOT NULL AND wanted NOT IN ('timescaledb', 'postgresql') THEN
    RAISE EXCEPTION 'factorysim.backend must be timescaledb or postgresql, got %', wanted;
  END IF;
  chosen := 'postgresql';
  IF coalesce(wanted, 'timescaledb') = 'timescaledb' THEN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
       AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
      BEGIN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        created := true;
      EXCEPTION WHEN OTHERS THEN
        -- Typically "not in shared_preload_libraries": plain PostgreSQL still works.
        unusable := format('it is available but cannot be created (%s)', SQLERRM);
      END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
      SELECT extversion INTO version FROM pg_extension WHERE extname = 'timescaledb';
      IF string_to_array(split_part(version, '-', 1), '.')::integer[] < ARRAY[2, 11] THEN
        unusable := format('version %s is older than 2.11', version);
      ELSIF coalesce(current_setting('timescaledb.license', true), 'timescale') = 'apache' THEN
        unusable := format('version %s is the Apache-2 build (timescaledb.license = apache): it has no '
                           'continuous aggregates and no compression', version);
      ELSE
        -- The license setting is not enough: a build without the Timescale-licensed module
        -- may not know the setting at all, and still refuses continuous aggregates. Try what
        -- 060/090 need on a scratch hypertable, in a subtransaction that is always undone.
        BEGIN
          CREATE TABLE factorysim_probe_ts (time timestamptz NOT NULL, v double precision);
          PERFORM create_hypertable(format('%I.factorysim_probe_ts', current_schema())::regclass, 'time');
          CREATE MATERIALIZED VIEW factorysim_probe_ts_1h WITH (timescaledb.continuous) AS
            SELECT time_bucket(interval '1 hour', time) AS bucket, avg(v) AS v
              FROM factorysim_probe_ts GROUP BY 1 WITH NO DATA;
          ALTER TABLE factorysim_probe_ts SET (timescaledb.compress);
          RAISE EXCEPTION USING ERRCODE = 'FSOK0', MESSAGE = 'probe passed';
        EXCEPTION WHEN OTHERS THEN
          IF SQLSTATE = 'FSOK0' THEN
            chosen := 'timescaledb';
          ELSE
            unusable := format('version %s cannot make continuous aggregates and compression (%s): '
                               'an Apache-2-only build (timescaledb.license = apache) has neither',
                               version, SQLERRM);
          END IF;
        END;
      END IF;
      IF chosen <> 'timescaledb' AND created THEN
        DROP EXTENSION timescaledb;  -- ours, and of no use: leave the database as it was
      END IF;
    ELSIF unusable IS NULL AND wanted = 'timescaledb' THEN
      unusable := 'the extension is not available';
    END IF;
  END IF;
  IF wanted = 'timescaledb' AND chosen <> 'timescaledb' THEN
    RAISE EXCEPTION 'factorysim.backend = timescaledb, but TimescaleDB cannot be used: %', unusable;
  END IF;
  IF unusable IS NOT NULL THEN
    -- Kept for `db init` to print: a server warning may never reach the user.
    INSERT INTO factorysim_settings (key, value) VALUES ('timescaledb_not_used', unusable)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now();
    RAISE WARNING 'factorysim: TimescaleDB not used (%); using plain PostgreSQL', unusable;
  END IF;
  INSERT INTO factorysim_settings (key, value) VALUES ('backend', chosen);
  RAISE NOTICE 'factorysim: backend %', chosen;
END $$;

-- 'timescaledb' or 'postgresql': which implementation of the one schema this database has.
CREATE OR REPLACE FUNCTION factorysim_backend() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT value FROM factorysim_settings WHERE key = 'backend'), 'postgresql')
$$;
