-- 041: dead letters stored once. A message the ingestor cannot store is redelivered by the
-- broker after a reconnect and replayed from the spool after an outage; each copy used to
-- add a row. The key is (topic, SHA-256 of the whole payload); a payload too large to keep is
-- stored as its first bytes, with its size and digest (payload_truncated).

ALTER TABLE ingest_rejects ADD COLUMN IF NOT EXISTS payload_sha256 bytea;
ALTER TABLE ingest_rejects ADD COLUMN IF NOT EXISTS payload_bytes bigint;
ALTER TABLE ingest_rejects ADD COLUMN IF NOT EXISTS payload_truncated boolean NOT NULL DEFAULT false;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()
                 AND indexname = 'ingest_rejects_topic_payload_key') THEN
    -- Rows written before this migration: digest them, keep the first of each copy.
    UPDATE ingest_rejects SET payload_sha256 = sha256(payload),
                              payload_bytes = length(payload)
     WHERE payload_sha256 IS NULL;
    DELETE FROM ingest_rejects r USING ingest_rejects o
     WHERE r.topic = o.topic AND r.payload_sha256 = o.payload_sha256 AND r.id > o.id;
    ALTER TABLE ingest_rejects ALTER COLUMN payload_sha256 SET NOT NULL;
    CREATE UNIQUE INDEX ingest_rejects_topic_payload_key
      ON ingest_rejects (topic, payload_sha256);
  END IF;
END
$$;
