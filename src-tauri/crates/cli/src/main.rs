//! `livetrigger-cli`: LiveTrigger without a window, built only from the Tauri-free crates.

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
    /// Check how a TikTok @username, live link or room id will be read.
    Target {
        /// `@user`, `https://www.tiktok.com/@user/live` or a numeric room id.
        input: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Target { input } => {
            let target = tiktok_live::target::Target::parse(&input)?;
            println!("{target}");
        }
    }
    Ok(())
}
