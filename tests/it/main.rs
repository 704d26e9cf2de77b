//! Black-box tests of the v1 API through real HTTP: one binary, one module per resource. Every
//! test runs twice, on SQLite and on Postgres (`both_backends!`), against a fresh database, and
//! asserts the contract (`api-v1.md`), not the implementation.

#![allow(
    clippy::disallowed_methods,
    reason = "black-box tests may read the wall clock and the test environment"
)]
// Tests abort with a message on the first broken expectation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod booking_answers;
mod booking_changes;
mod booking_list;
mod booking_questions;
mod bookings;
mod conventions;
mod dst;
mod errors;
mod event_types;
mod guard;
mod hostile_input;
mod idempotency;
mod locking;
mod me;
mod month_ends;
mod notifications;
mod oauth;
mod oauth_browser;
mod oauth_membership;
mod oauth_pages;
mod oauth_registration;
mod oauth_scopes;
mod ops;
mod pages;
mod pending;
mod ping;
mod rate_limits;
mod schedules;
mod scopes;
mod scorecard;
mod slots;
mod tenancy;
mod webhooks;
