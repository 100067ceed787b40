//! `livetrigger-cli`: LiveTrigger without a window, built only from the Tauri-free crates.
//!
//! Each group of subcommands lives in its own module with its own clap enum, flattened here:
//! `live` (TikTok protocol: decode, simulate, watch) and, as they land, outputs and the engine.

mod live;
mod outputs;
mod paths;
mod rcon_server;
mod run;
mod simulate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "livetrigger-cli",
    version,
    about = "LiveTrigger without a window: TikTok LIVE events to Minecraft commands and sounds",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Live(live::Command),
    #[command(flatten)]
    Outputs(outputs::Command),
    #[command(flatten)]
    Simulate(simulate::Command),
    #[command(flatten)]
    Run(run::Command),
    #[command(flatten)]
    RconServer(rcon_server::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Live(cmd) => live::run(cmd).await,
            Command::Outputs(cmd) => outputs::run(cmd).await,
            Command::Simulate(cmd) => simulate::run(cmd).await,
            Command::Run(cmd) => run::run(cmd).await,
            Command::RconServer(cmd) => rcon_server::run(cmd).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
