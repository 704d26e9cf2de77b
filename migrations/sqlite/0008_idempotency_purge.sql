-- Retention (issue 13): the worker's purge of expired idempotency keys
-- (`IdempotencyStore::purge_expired`: `created_at < cut-off ORDER BY created_at LIMIT n`)
-- reads the oldest keys through this index instead of scanning and sorting the whole table
-- every housekeeping round.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
