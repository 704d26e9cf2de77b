//! Fixed-window rate limits (being written).

/// In-process fixed-window counters.
#[derive(Debug, Default)]
pub struct RateLimiter;
