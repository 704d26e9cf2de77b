//! The `slotbook` binary: parses the command line and hands over to [`server::cli::run`].

#![allow(
    clippy::disallowed_methods,
    reason = "the composition root: reads the system clock and the environment for the rest"
)]

use clap::Parser as _;

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
