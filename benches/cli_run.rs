//! `livetrigger-cli run` as the memory and pipeline benches start it: their own process on
//! 127.0.0.1 servers, quiet, killed with the bench. Included by both with `#[path]`.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

/// The command for `BIN run` against the simulator at `web_url` and the RCON server at
/// `rcon_addr`. `LIVETRIGGER_BENCH_WRAP="heaptrack -o F"` runs it under a profiler (the RSS
/// figure is then the wrapper's, not a result).
pub fn cli_run(
    bin: &str,
    profile: &Path,
    web_url: &str,
    rcon_addr: &str,
    data: &Path,
    password: &str,
) -> Command {
    let mut cmd = match std::env::var("LIVETRIGGER_BENCH_WRAP") {
        Ok(wrap) if !wrap.trim().is_empty() => {
            let mut parts = wrap.split_whitespace();
            let mut c = Command::new(parts.next().unwrap_or_default());
            c.args(parts).arg(bin);
            c
        }
        _ => Command::new(bin),
    };
    cmd.arg("run")
        .arg("--profile")
        .arg(profile)
        .args(["--user", webcast_sim::DEFAULT_USER])
        .args(["--web-url", web_url])
        .args(["--rcon-addr", rcon_addr])
        .arg("--data-dir")
        .arg(data)
        .env("LIVETRIGGER_RCON_PASSWORD", password)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd
}
