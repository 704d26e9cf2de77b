//! Integration tests of the `server` crate: configuration layering, the administrative use
//! cases on a temporary SQLite file, and the real `slotbook` binary (`demo`, `admin`, `serve`
//! with a SIGTERM drain).

mod admin;
mod cli;
mod config;
mod serve;
mod support;
