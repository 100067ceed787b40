//! Output subcommands: RCON, command templates, sound.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {}
}
