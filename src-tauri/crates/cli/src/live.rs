//! TikTok LIVE subcommands.

use std::process::ExitCode;

use clap::Subcommand;
use tiktok_live::target::Target;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check how a TikTok @username, live link or room id will be read.
    Target {
        /// `@user`, `https://www.tiktok.com/@user/live` or a numeric room id.
        input: String,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Target { input } => {
            let target = Target::parse(&input)?;
            println!("{target}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
