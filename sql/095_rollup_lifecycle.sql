-- 095: rollups as users run them (issue 11).
-- TimescaleDB: every level reads in real time (materialized_only = false): a dashboard sees
-- the bucket in progress and every complete bucket at once, computed from the level below
-- (and, at the bottom, the raw rows) past each level's materialization watermark. The
-- policies materialize only complete buckets, each level after the one below it is done:
-- end_offsets 1 min / 5 min / 30 min / 2 h (rollup_definitions()), so a materialized bucket
-- is never built from an incomplete lower level. Existing policies whose offsets differ are
-- replaced.
-- Both backends: rollups are compressed and kept as rollup_lifecycle() says; the 1-minute
-- and 15-minute levels are dropped after 1 and 3 years, the hourly and daily ones kept.
CREATE OR REPLACE FUNCTION rollup_lifecycle()
RETURNS TABLE (name text, compress_after interval, drop_after interval)
LANGUAGE sql IMMUTABLE AS $$
  SELECT d.name,
         CASE d.level WHEN 1 THEN interval '7 days' WHEN 2 THEN interval '30 days' ELSE interval '90 days' END,
         CASE d.level WHEN 1 THEN interval '1 year' WHEN 2 THEN interval '3 years' END
    FROM rollup_definitions() d
$$;

DO $$
DECLARE
  d record;
  l record;
  job record;
  rel regclass;
BEGIN
  IF factorysim_backend() <> 'timescaledb' THEN
    RETURN;
  END IF;
  FOR d IN SELECT * FROM rollup_definitions() ORDER BY level, name LOOP
    rel := format('%I.%I', current_schema(), d.name)::regclass;
    IF (SELECT materialized_only FROM timescaledb_information.continuous_aggregates
         WHERE view_schema = current_schema() AND view_name = d.name) THEN
      EXECUTE format('ALTER MATERIALIZED VIEW %s SET (timescaledb.materialized_only = false)', rel);
    END IF;
    SELECT j.job_id, j.config, j.schedule_interval INTO job FROM timescaledb_information.jobs j
     WHERE j.hypertable_schema = current_schema() AND j.hypertable_name = d.name  -- the view's name
       AND j.proc_name = 'policy_refresh_continuous_aggregate';
    IF job.job_id IS NOT NULL AND ((job.config->>'end_offset')::interval IS DISTINCT FROM d.end_offset
                                   OR (job.config->>'start_offset')::interval IS DISTINCT FROM d.start_offset
                                   OR job.schedule_interval IS DISTINCT FROM d.schedule_interval) THEN
      PERFORM remove_continuous_aggregate_policy(rel, if_exists => true);
    END IF;
    PERFORM add_continuous_aggregate_policy(rel, start_offset => d.start_offset, end_offset => d.end_offset,
                                            schedule_interval => d.schedule_interval, if_not_exists => true);
  END LOOP;
  FOR l IN SELECT * FROM rollup_lifecycle() LOOP
    rel := format('%I.%I', current_schema(), l.name)::regclass;
    IF NOT (SELECT compression_enabled FROM timescaledb_information.continuous_aggregates
             WHERE view_schema = current_schema() AND view_name = l.name) THEN
      EXECUTE format('ALTER MATERIALIZED VIEW %s SET (timescaledb.compress = true)', rel);
    END IF;
    PERFORM add_compression_policy(rel, compress_after => l.compress_after, if_not_exists => true);
    IF l.drop_after IS NOT NULL THEN
      PERFORM add_retention_policy(rel, drop_after => l.drop_after, if_not_exists => true);
    END IF;
  END LOOP;
END $$;

-- Plain PostgreSQL (and TimescaleDB, where it drops chunks of the aggregates): removes rollup
-- buckets older than their drop_after as of `as_of`; returns the rows (PostgreSQL) or chunks
-- (TimescaleDB) removed. Run by `db maintain` with the raw retention.
CREATE OR REPLACE FUNCTION apply_rollup_retention(as_of timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  l record;
  n bigint;
  total bigint := 0;
BEGIN
  FOR l IN SELECT * FROM rollup_lifecycle() WHERE drop_after IS NOT NULL LOOP
    IF factorysim_backend() = 'timescaledb' THEN
      SELECT count(*) INTO n FROM drop_chunks(l.name::regclass, older_than => as_of - l.drop_after);
    ELSE
      EXECUTE format('DELETE FROM %I WHERE bucket < $1', l.name) USING as_of - l.drop_after;
      GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    total := total + n;
  END LOOP;
  RETURN total;
END $$;
