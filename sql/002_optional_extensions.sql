-- 002: extensions the EnMS document enables, created when the server has them and left out
-- otherwise (nothing of factorysim depends on them): uuid-ossp (uuid_generate_v4(); the
-- schema itself uses the core gen_random_uuid()), pg_stat_statements (query statistics; it
-- records only when the server preloads it: shared_preload_libraries, as
-- deploy/postgresql/factorysim.conf does), tablefunc (crosstab() for pivot reports).
DO $$
DECLARE
  ext text;
BEGIN
  FOREACH ext IN ARRAY ARRAY['uuid-ossp', 'pg_stat_statements', 'tablefunc'] LOOP
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = ext)
       AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = ext) THEN
      BEGIN
        EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I', ext);
      EXCEPTION WHEN OTHERS THEN
        -- e.g. not allowed for this role: the schema works without it.
        RAISE NOTICE 'factorysim: extension % not created (%)', ext, SQLERRM;
      END;
    END IF;
  END LOOP;
END $$;
