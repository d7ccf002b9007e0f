-- 043: machine_status follows the data. The ingestor updates current_power_kw,
-- energy_total_kwh and last_seen from the newest energy reading of each machine in every
-- batch (once per batch and machine, in the batch's transaction), not only from T/status,
-- which is published on changes only. last_reading_at is the `time` of that reading; a row
-- made by readings before any T/status has `time` (the status message's) NULL.
ALTER TABLE machine_status ADD COLUMN IF NOT EXISTS last_reading_at timestamptz;
ALTER TABLE machine_status ALTER COLUMN time DROP NOT NULL;
