//! The `slotbook` server as a library: configuration, wiring of the concrete adapters, the
//! administrative use cases and the command line.
//!
//! This is the only crate that names concrete stores. The binary (`src/main.rs`) is a thin
//! shell over [`cli::run`]; the testkit and the tests call the same functions the CLI runs
//! ([`admin`], [`demo::demo`], [`wiring::app_state`], [`wiring::serve`]). It must never log a
//! secret (tokens, the pepper, passwords, database passwords): newly minted tokens go to
//! standard output once, logs go to standard error.

#![allow(
    clippy::disallowed_methods,
    reason = "the composition root: reads the system clock and the environment for the rest"
)]

pub mod admin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod http_server;
pub mod notify_config;
pub mod notify_worker;
pub mod pepper;
pub mod telemetry;
pub mod tls;
pub mod wiring;
pub mod worker;
