//! Slotbook's pure scheduling model.
//!
//! Organizations and users, availability schedules, event types, the slot engine, booking rules,
//! principals and scopes, and the port traits through which the outside world is reached.
//!
//! This crate must never perform I/O, read the clock or the environment, or depend on a wire
//! format (no serde): time arrives through [`ports::Clock`], identifiers through
//! [`ports::IdGen`], and everything else through the store ports. That keeps every rule testable
//! with fixed inputs and lets other Rust services link it without pulling in a runtime.

pub mod access;
pub mod answers;
pub mod availability;
pub mod booking;
pub mod booking_input;
pub mod booking_page;
pub mod booking_service;
pub mod directory_service;
pub mod event_type;
pub mod event_type_service;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod ids;
pub mod interval;
pub mod notification;
pub mod notification_service;
pub mod oauth;
pub mod oauth_service;
pub mod organization;
pub mod pagination;
pub mod ports;
pub mod retention;
pub mod schedule_service;
pub mod slot_service;
pub mod slots;
pub mod token_service;
pub mod tzdb;
pub mod validate;
pub mod webhook;
pub mod webhook_service;

pub use ids::*;
