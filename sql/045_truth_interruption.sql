-- 045: the interruption under way at a truth reading (docs/topics.md "T/truth"): a
-- micro-stop (short and unplanned: a jam, a stuck part) or a changeover (planned: a mold or
-- product change), NULL while the machine produces or is not scheduled to. Truth, not a
-- measurement: a plant's own OEE system would record the reason; analytics should find the
-- stops in power and production, and can be scored against this column.
-- No CHECK on the values: a compressed hypertable takes a new column only without one, and a
-- publisher's new reason must not fail a whole batch.
ALTER TABLE health_truth ADD COLUMN IF NOT EXISTS interruption text;
