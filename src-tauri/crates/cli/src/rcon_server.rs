//! `rcon-server`: the engine's vanilla-like RCON test server as a process, so the app can be
//! tried (and its end-to-end tests run) without a Minecraft server.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use livetrigger_engine::outputs::rcon::test_server::McRconServer;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a small RCON server on 127.0.0.1 that behaves like vanilla Minecraft's. The first
    /// line printed is `listening on 127.0.0.1:PORT`; then one `exec <command>` line per
    /// command it runs. Stops on Ctrl-C.
    RconServer {
        /// The password clients must log in with.
        #[arg(long)]
        password: String,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::RconServer { password } = cmd;
    let server = McRconServer::start(&password).await?;
    println!("listening on {}", server.addr());
    std::io::stdout().flush()?;
    let state = server.state().clone();
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = state.wait_executed(seen + 1) => {
                let all = state.executed();
                let mut out = std::io::stdout().lock();
                for command in &all[seen..] {
                    // One line per command, whatever it contains.
                    writeln!(out, "exec {}", command.replace(['\n', '\r'], " "))?;
                }
                out.flush()?;
                seen = all.len();
            }
        }
    }
    server.stop().await;
    Ok(ExitCode::SUCCESS)
}
