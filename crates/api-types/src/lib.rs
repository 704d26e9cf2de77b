//! Wire DTOs of the v1 REST API and of webhook payloads, with their OpenAPI schemas and the
//! conversions to and from `domain` types.
//!
//! REST bodies are snake_case; webhook payloads are camelCase ([`webhook`]). Every timestamp on
//! the wire is written by [`time::ts`] (RFC 3339 UTC with exactly three fractional digits).
//! Request DTOs list their top-level field names in `FIELDS` (see [`WireFields`]) so the HTTP
//! layer can reject unknown fields; nested objects reject them through serde.
//!
//! This crate must never perform I/O or hold business rules: conversions only translate shapes
//! and report bad input as [`domain::validate::FieldErrors`] with wire field names.

pub mod booking;
pub mod booking_request;
pub mod envelope;
pub mod event_type;
pub mod event_type_request;
pub mod json;
pub mod preconditions;
pub mod schedule;
pub mod slots;
pub mod time;
pub mod webhook;
pub mod webhook_api;

pub use time::ts;

/// A request body's accepted top-level field names (the HTTP layer's mass-assignment guard).
pub trait WireFields {
    /// Every field the body may contain.
    const FIELDS: &'static [&'static str];
}
