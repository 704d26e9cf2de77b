//! `Idempotency-Key` handling for booking writes (being written).
