-- Retention (issue 13): the worker's purge of expired idempotency keys
-- (`IdempotencyStore::purge_expired`: `reserved_at < cut-off ORDER BY reserved_at LIMIT n
-- FOR UPDATE SKIP LOCKED`) reads the oldest keys through this index instead of scanning and
-- sorting the whole table every housekeeping round.
CREATE INDEX idempotency_keys_reserved ON idempotency_keys (reserved_at);
