//! The HTTP benchmark behind `just bench-http`: seeds a fresh SQLite database through the
//! administrative functions the CLI uses, runs the real release `slotbook serve` binary and a bare
//! hyper "hello" server as child processes on free loopback ports, drives both with a bounded
//! closed-loop load generator (N keep-alive HTTP/1.1 connections sending requests back to back
//! for D seconds, with a hard request cap), and reports requests/s, p50 and p99 (HDR histogram)
//! per scenario, each relative to the bare server measured in the same run, plus the resident
//! memory of the slotbook process.
//!
//! Modules: [`children`] (child processes, killed on drop; `/proc` RSS), [`harness`] (what
//! every benchmark binary shares: entry point, temporary directory, sibling binaries, the
//! `slotbook serve` child), [`seed`] (the benchmark organization), [`load`] (the load
//! generator), [`in_process`] (the same bookings through `BookingService` in this process, the
//! reference of `POST /v1/bookings`), [`report`] (the Markdown table).
//! `slotbook-bench-webhooks` (`just bench-webhooks`) reuses all of them. `slotbook-reliability` (`just reliability`, the
//! issue-17 scorecard) adds [`raw`] (a byte-exact HTTP/1.1 client), [`hostile`] (the
//! hostile-input corpus, also run by the black-box tests on both stores), [`race`] (the
//! concurrency rows) and [`schemathesis`] (the OpenAPI row, also a black-box test);
//! `slotbook-faults` adds [`faults`] (SIGKILL, Postgres outage, pool exhaustion, idle and
//! slowloris sockets).
//! `slotbook-bench-scale` (`just bench-scale`, issue 18 item 5) adds [`scale`] (100 hosts and
//! a history plan) and [`scale_sql`] (bulk-loading the history as copies of a booking the
//! server wrote, and the query plans).
//! Only loopback addresses are ever contacted.

#![allow(
    clippy::disallowed_methods,
    reason = "the load generator measures wall-clock time and reads its environment"
)]

pub mod children;
pub mod faults;
pub mod harness;
pub mod hostile;
pub mod in_process;
pub mod load;
pub mod race;
pub mod raw;
pub mod report;
pub mod scale;
pub mod scale_sql;
pub mod schemathesis;
pub mod seed;
