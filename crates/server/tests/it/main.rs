//! Integration tests of the `server` crate: configuration layering, the administrative use
//! cases on a temporary SQLite file, and the real `slotbook` binary (`demo`, `admin`, `serve`
//! with a SIGTERM drain).

#![allow(
    clippy::disallowed_methods,
    reason = "process-level tests of the server read the wall clock and the environment"
)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// test code: failing loudly is the point
// figment's `Jail` closures must return its (large) error type.
#![allow(clippy::result_large_err)]

mod admin;
mod cli;
mod config;
mod connections;
mod faults;
mod notify_process;
mod outage;
mod postgres;
mod retention;
mod serve;
mod support;
mod tls;
mod webhook_process;
