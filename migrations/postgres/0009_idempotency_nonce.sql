-- Idempotency keys are never stuck (issue 17 item 5): every reservation carries the random
-- nonce `reserve` returned (UUID v4). Completing (inside the booking transaction or not) and
-- releasing a reservation match on it, so a late request whose lease expired and whose key
-- was taken over can neither overwrite nor delete the new owner's record. Rows written before
-- this migration have NULL: completed ones replay as before, unfinished ones (their process
-- is gone) are taken over once their lease is over.
ALTER TABLE idempotency_keys ADD COLUMN nonce uuid;
