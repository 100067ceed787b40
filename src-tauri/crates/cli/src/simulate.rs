//! `simulate`: run the local webcast simulator (sign server + TikTok web routes + push socket).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use webcast_sim::{
    script, ConnFault, HandshakeFault, LivePage, RoomState, Scenario, SignFault, SimConfig,
    Simulator,
};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a local TikTok LIVE simulator (sign server, web routes and push websocket on one
    /// port). The first line printed is `listening on http://127.0.0.1:PORT`.
    Simulate {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// A built-in scenario (`demo`, `idle`) or a JSON script file.
        #[arg(long, default_value = "demo", conflicts_with_all = ["replay", "rate"])]
        scenario: String,
        /// Replay a recording to every client: a recording file (`watch --record`) or an old
        /// recording folder (`initial_fetch.bin`, `frames/`).
        #[arg(long, value_name = "PATH")]
        replay: Option<PathBuf>,
        /// Replay speed of a recording file: 1 keeps the recorded gaps between frames (each
        /// capped at --replay-max-gap-ms), 10 is ten times faster, 0 ignores the recorded
        /// times (frames --replay-interval-ms apart).
        #[arg(long, default_value_t = 1.0, requires = "replay", value_parser = parse_speed)]
        replay_speed: f64,
        /// Longest recorded gap kept, in milliseconds, so a paused recording does not stall.
        #[arg(long, default_value_t = webcast_sim::DEFAULT_MAX_GAP.as_millis() as u64, requires = "replay")]
        replay_max_gap_ms: u64,
        /// Pause between replayed frames, in milliseconds, when there are no recorded times
        /// (old folders, --replay-speed 0).
        #[arg(long, default_value_t = 0, requires = "replay")]
        replay_interval_ms: u64,
        /// Random traffic at N messages per second instead of a script.
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
        /// Seed of the random traffic.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Stop the random traffic after this many messages.
        #[arg(long)]
        limit: Option<u64>,
        /// Multiply scripted waits by this (0 = no waits).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// The host's @handle.
        #[arg(long, default_value = webcast_sim::DEFAULT_USER)]
        user: String,
        /// The room id.
        #[arg(long, default_value_t = webcast_sim::DEFAULT_ROOM_ID)]
        room_id: u64,
        /// Room state for the web routes: live, paused, offline, not-found, age-restricted.
        #[arg(long, default_value = "live", value_parser = parse_room_state)]
        room_state: RoomState,
        /// Live page mode: normal, blocked, captcha, forbidden.
        #[arg(long, default_value = "normal", value_parser = parse_live_page)]
        live_page: LivePage,
        /// Require this API key on the sign routes.
        #[arg(long)]
        api_key: Option<String>,
        /// Answer the first N sign calls with 429.
        #[arg(long, default_value_t = 0)]
        rate_limit_first: usize,
        /// `Retry-After` of those 429s, in seconds.
        #[arg(long, default_value_t = 60)]
        retry_after: u64,
        /// Reject the first N websocket handshakes with 200 + DEVICE_BLOCKED.
        #[arg(long, default_value_t = 0)]
        block_handshakes: usize,
        /// Drop the first connection's TCP socket (no close frame) after N frames.
        #[arg(long, value_name = "N")]
        drop_after: Option<usize>,
        /// Go silent on the first connection after N frames.
        #[arg(long, value_name = "N")]
        silent_after: Option<usize>,
        /// Close sockets that send no heartbeat for this many seconds.
        #[arg(long, value_name = "SECS")]
        heartbeat_timeout: Option<u64>,
        /// After a reconnect, re-send the last K frames (duplicates to test dedupe).
        #[arg(long, default_value_t = 0, value_name = "K")]
        resend: usize,
        /// Answer room/info with `4003110` + `prompts` for every room (as under rate limits).
        #[arg(long)]
        room_info_prompts: bool,
        /// Accept any handshake (no room_id/cursor/internal_ext/cookie/UA/age checks).
        #[arg(long)]
        lax_handshake: bool,
        /// Offer `Handshake-Options: ping-interval=N`.
        #[arg(long, value_name = "SECS")]
        ping_interval: Option<u64>,
        /// Push results without `need_ack`.
        #[arg(long)]
        no_ack: bool,
    },
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a speed (a number ≥ 0)")),
    }
}

fn parse_room_state(s: &str) -> Result<RoomState, String> {
    Ok(match s {
        "live" => RoomState::Live,
        "paused" => RoomState::Paused,
        "offline" => RoomState::Offline,
        "not-found" => RoomState::NotFound,
        "age-restricted" => RoomState::AgeRestricted,
        _ => return Err(format!("unknown room state {s:?}")),
    })
}

fn parse_live_page(s: &str) -> Result<LivePage, String> {
    Ok(match s {
        "normal" => LivePage::Normal,
        "blocked" => LivePage::Blocked,
        "captcha" => LivePage::Captcha,
        "forbidden" => LivePage::Forbidden,
        _ => return Err(format!("unknown live page mode {s:?}")),
    })
}

fn scenario_from(name: &str) -> anyhow::Result<Scenario> {
    if let Some(script) = script::builtin(name) {
        return Ok(Scenario::Script(script));
    }
    let text = std::fs::read_to_string(name).with_context(|| {
        format!("{name:?} is neither a built-in scenario (demo, idle) nor a readable file")
    })?;
    let script = webcast_sim::Script::from_json(&text).with_context(|| format!("in {name}"))?;
    Ok(Scenario::Script(script))
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Simulate {
        listen,
        scenario,
        replay,
        replay_speed,
        replay_max_gap_ms,
        replay_interval_ms,
        rate,
        seed,
        limit,
        time_scale,
        user,
        room_id,
        room_state,
        live_page,
        api_key,
        rate_limit_first,
        retry_after,
        block_handshakes,
        drop_after,
        silent_after,
        heartbeat_timeout,
        resend,
        room_info_prompts,
        lax_handshake,
        ping_interval,
        no_ack,
    } = cmd;
    let scenario = match (replay, rate) {
        (Some(path), _) => Scenario::Replay {
            path,
            interval: Duration::from_millis(replay_interval_ms),
            speed: replay_speed,
            max_gap: Duration::from_millis(replay_max_gap_ms),
        },
        (None, Some(rate)) => Scenario::Random { rate, seed, limit },
        (None, None) => scenario_from(&scenario)?,
    };
    let first_conn_fault = match (drop_after, silent_after) {
        (Some(frames), _) => vec![ConnFault::DropAfter { frames }],
        (None, Some(frames)) => vec![ConnFault::SilentAfter { frames }],
        (None, None) => Vec::new(),
    };
    let config = SimConfig {
        room_id,
        unique_id: user,
        scenario,
        time_scale,
        room_state,
        live_page,
        api_key,
        sign_faults: vec![
            SignFault::RateLimited {
                retry_after_secs: retry_after
            };
            rate_limit_first
        ],
        handshake_faults: vec![HandshakeFault::device_blocked(); block_handshakes],
        conn_faults: first_conn_fault,
        heartbeat_timeout: heartbeat_timeout.map(Duration::from_secs),
        resend_on_reconnect: resend,
        ping_interval_secs: ping_interval,
        need_ack: !no_ack,
        room_info_prompts,
        strict_handshake: !lax_handshake,
        ..SimConfig::default()
    };
    let mut sim = Simulator::start(config, listen).await?;
    {
        // Only the address goes to stdout: a reader may close the pipe after that one line,
        // and a later write would then fail the whole process with a broken pipe.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", sim.base_url())?;
        out.flush()?;
    }
    eprintln!(
        "sign: {}  webcast: {}  push_server: {}",
        sim.base_url(),
        sim.webcast_url(),
        sim.ws_url()
    );
    let token = sim.cancel_token();
    tokio::select! {
        _ = stop_signal() => {}
        _ = sim.stopped() => {}
    }
    token.cancel();
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM on Unix (what `kill` and service managers send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
