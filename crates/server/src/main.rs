//! The `slotbook` binary: parses the command line and hands over to [`server::cli::run`].

#![allow(
    clippy::disallowed_methods,
    reason = "the composition root: reads the system clock and the environment for the rest"
)]

use clap::Parser as _;

/// mimalloc instead of glibc's malloc: a slot listing allocates and frees a ~130 KiB response
/// body per request, and glibc's dynamic mmap threshold then served those from the heap with a
/// `malloc_consolidate` pass each time (about 18 % of the server's CPU in libc on `/v1/slots`;
/// BENCHMARKS.md "mimalloc and read connections without the ping"). Built without transparent
/// huge pages (`no_thp`), which otherwise raised idle RSS from 25 to 42 MiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = server::cli::Cli::parse();
    match server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
