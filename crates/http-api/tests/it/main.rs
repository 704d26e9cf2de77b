//! Tests of the HTTP platform layers (authentication, rate limits, idempotency, operations
//! endpoints, the middleware stack) through the real router over an on-disk scratch SQLite
//! store, driven in process with `tower::ServiceExt::oneshot` and a settable clock. The
//! black-box suite in `tests/` covers the contract end to end over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod idempotency;
mod platform;
mod shared_limits;
mod support;
