//! Pipeline figures (issue 12): the whole headless pipeline on 127.0.0.1, timed end to end.
//!
//! ```bash
//! cargo bench -p livetrigger-cli --bench pipeline                 # all three
//! cargo bench -p livetrigger-cli --bench pipeline -- latency      # or throughput, or rss
//! ```
//!
//! - `latency`: frame in → RCON bytes out at 1,000 events/s. The simulator's seeded random
//!   traffic (chat, likes, gifts, joins, follows, shares, viewer counts; 50 messages a frame,
//!   20 frames a second) goes through the real client (websocket, gunzip, protobuf, dispatch),
//!   the engine (handler, durable SQLite store, a lane with `minGapMs: 0`) and the RCON output
//!   (no command gap) to the Minecraft-faithful RCON server, all in this process. Every gift
//!   has a sender of its own and fires one `say lat g<k>` command, so each command is joined
//!   to the frame that carried its gift: from the moment the simulator's socket accepted that
//!   frame to the moment the RCON server read the command's packet, on one clock.
//! - `throughput`: the same kind of traffic (100 messages a frame) through client, handler
//!   and durable store (rules matched, none firing, no output), paced by the simulator at
//!   rising rates, then unpaced. A run is sustained when every event was in the store at
//!   most 250 ms after the last frame was written; its rate is messages / (last event stored
//!   − first frame written). Unpaced, the simulator writes as fast as the socket takes
//!   frames, and the client reads only as fast as the engine accepts events (its buffers are
//!   bounded), so a pipeline that falls behind slows the sender instead of piling up.
//! - `rss`: peak resident set (`VmHWM`) of a `livetrigger-cli run` process with the starter
//!   profile during a 20,000 events/s flood of the simulator's random traffic (10 s), against
//!   the RCON server; Ctrl-C once every event is stored (waiting paid items stay queued).
//!
//! Sizes: `LIVETRIGGER_BENCH_LATENCY_MESSAGES` (default 72,000: about 10,800 gifts, 72 s),
//! `LIVETRIGGER_BENCH_THROUGHPUT_MESSAGES` (default 100,000 per rate),
//! `LIVETRIGGER_BENCH_FLOOD_SECONDS` (default 10).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use livetrigger_engine::engine::{pump, Engine, EngineConfig, OutputsExecutor, Profile, Shutdown};
use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use livetrigger_engine::outputs::rcon::{RconConfig, RconHealth, RconOutput};
use tiktok_live::client::{ClientConfig, LiveClient};
use tiktok_live::event::Event;
use tiktok_live::target::Target;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use webcast_sim::{Msg, Scenario, Script, SimConfig, SimHandle, SimUser, Simulator, Step};

#[path = "cli_run.rs"]
mod cli_run;
use cli_run::cli_run;

const BIN: &str = env!("CARGO_BIN_EXE_livetrigger-cli");
const PASSWORD: &str = "pipeline-bench";
const SEED: u64 = 12;
const LATENCY_TARGET: Duration = Duration::from_millis(2);
const RSS_TARGET_MB: f64 = 25.0;
const FLOOD_RATE: u64 = 20_000;
/// A flood is sustained when every event is in the store this soon after its last frame.
const MAX_LAG: Duration = Duration::from_millis(250);

/// One command per gift (the streak's whole value reaches 1 coin exactly once), carrying
/// the sender's handle so the command can be joined to its gift.
const LATENCY_PROFILE: &str = r#"{"schemaVersion": 2,
  "lanes": [{"name": "minecraft", "minGapMs": 0, "maxDepth": 100000}],
  "actions": [{"id": "mark", "steps": [{"type": "command", "template": "say lat {username}"}]}],
  "rules": [{"id": "gift", "trigger": {"type": "giftCoins", "streakCoinsAtLeast": 1}, "actions": ["mark"]}]}"#;

/// Rules the handler must match against every event, none of which fires: the figure is the
/// handler and the store, not an output.
const THROUGHPUT_PROFILE: &str = r#"{"schemaVersion": 2,
  "lanes": [{"name": "minecraft", "minGapMs": 0, "maxDepth": 100000}],
  "actions": [{"id": "mark", "steps": [{"type": "command", "template": "say {username}"}]}],
  "rules": [{"id": "whale", "trigger": {"type": "giftCoins", "streakCoinsAtLeast": 100000000}, "actions": ["mark"]},
            {"id": "likes", "trigger": {"type": "likes", "every": 1000000000}, "actions": ["mark"]},
            {"id": "chat", "trigger": {"type": "chatCommand", "command": "!never"}, "actions": ["mark"]}]}"#;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn store_path(engine_dir: &Path) -> PathBuf {
    engine_dir.join("livetrigger.sqlite3")
}

fn events_stored(db: &Path) -> u64 {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Frames of `batch` messages of the seeded random stream, `wait_ms` apart (none: unpaced),
/// ending the stream after the last one.
fn random_frames(frames: u64, batch: usize, wait_ms: Option<u64>) -> Script {
    let mut steps = Vec::new();
    for index in 0..frames {
        if index > 0 {
            if let Some(ms) = wait_ms {
                steps.push(Step::Wait { ms });
            }
        }
        steps.push(Step::Frame {
            messages: webcast_sim::random::frame(SEED, index, batch),
        });
    }
    steps.push(Step::EndStream);
    Script {
        history: Vec::new(),
        steps,
    }
}

async fn start_sim(script: Script) -> SimHandle {
    let mut cfg = SimConfig::with_script(script);
    // The stream's end is the signal to stop; no need to linger after it.
    cfg.end_grace = Duration::from_millis(200);
    Simulator::start(cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("simulator")
}

fn client(sim: &SimHandle) -> LiveClient {
    let mut cfg = ClientConfig::local(&sim.base_url());
    cfg.backoff.max_attempts = Some(2);
    LiveClient::new(cfg).expect("client")
}

async fn latency() {
    let messages = env_u64("LIVETRIGGER_BENCH_LATENCY_MESSAGES", 72_000);
    let pace = webcast_sim::random::pace(1000.0);
    let frames = messages.div_ceil(pace.batch as u64);
    let mut script = random_frames(frames, pace.batch, Some(pace.interval.as_millis() as u64));
    // Each gift gets a sender of its own; `frame_of[k]` is the frame carrying gift k.
    let mut frame_of = Vec::new();
    let mut frame = 0usize;
    for step in &mut script.steps {
        if let Step::Frame { messages } = step {
            for m in messages.iter_mut() {
                if let Msg::Gift { user, .. } = m {
                    let k = frame_of.len() as u64;
                    *user = SimUser::new(900_000_000 + k, &format!("g{k}"), &format!("Gifter {k}"));
                    frame_of.push(frame);
                }
            }
            frame += 1;
        }
    }

    let rcon = McRconServer::start(PASSWORD).await.expect("rcon server");
    let mut rcfg = RconConfig::new(rcon.addr().to_string(), PASSWORD);
    rcfg.command_gap = Duration::ZERO;
    let output = RconOutput::spawn(rcfg);
    let mut health = output.handle().health();
    while !matches!(*health.borrow_and_update(), RconHealth::Connected) {
        health.changed().await.expect("rcon health");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = Profile::from_json(LATENCY_PROFILE).expect("profile");
    let (engine, _) = Engine::start(
        &profile,
        OutputsExecutor {
            rcon: Some(output.handle()),
            ..OutputsExecutor::default()
        },
        EngineConfig {
            data_dir: Some(dir.path().to_owned()),
            target: "bench".into(),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();
    let sim = start_sim(script).await;
    let cancel = CancellationToken::new();
    let stream = client(&sim).connect(
        Target::User(webcast_sim::DEFAULT_USER.into()),
        cancel.clone(),
    );
    // When each gift's event leaves the client (decoded, counted) for the engine: splits
    // the figure into client and engine + RCON shares.
    let decoded = Arc::new(Mutex::new(vec![None; frame_of.len()]));
    let seen_by_client = decoded.clone();
    let stream = stream.inspect(move |e| {
        if let Ok(Event::Gift(g)) = e {
            let k = g.gift.user.as_ref().and_then(|u| {
                u.unique_id
                    .strip_prefix('g')
                    .and_then(|k| k.parse::<usize>().ok())
            });
            if let Some(k) = k {
                let mut d = seen_by_client.lock().expect("lock");
                if let Some(slot) = d.get_mut(k) {
                    slot.get_or_insert_with(Instant::now);
                }
            }
        }
    });
    let started = Instant::now();
    let pumped = pump(stream, &h, &cancel).await;
    let streamed = started.elapsed();
    assert!(
        h.drain_for(Duration::from_secs(60)).await,
        "the queue drains"
    );
    engine.shutdown(Shutdown::Drain).await;
    output.shutdown().await;

    let rec = sim.recorded();
    assert_eq!(rec.connections, 1, "one websocket connection");
    let pushed: Vec<_> = rec.pushed.iter().filter(|p| !p.resent).collect();
    // The script's frames, then the stream's end (a control message frame).
    assert_eq!(pushed.len() as u64, frames + 1, "every frame pushed");
    let state = rcon.state();
    assert_eq!(
        (state.connections(), state.auth_attempts()),
        (1, 1),
        "one RCON login"
    );
    let executed = state.executed();
    let times = state.packet_times();
    // One read per packet: the login, then one per command in order.
    assert_eq!(times.len(), executed.len() + 1, "packets vs commands");
    let mut seen = vec![false; frame_of.len()];
    let mut lat = Vec::with_capacity(executed.len());
    let mut client_part = Vec::with_capacity(executed.len());
    let mut engine_part = Vec::with_capacity(executed.len());
    let decoded = decoded.lock().expect("lock").clone();
    for (cmd, at) in executed.iter().zip(&times[1..]) {
        let k: usize = cmd
            .strip_prefix("say lat g")
            .and_then(|k| k.parse().ok())
            .unwrap_or_else(|| panic!("unexpected command {cmd:?}"));
        assert!(!seen[k], "gift {k} ran twice");
        seen[k] = true;
        let written = pushed[frame_of[k]].written_at.expect("frame write time");
        lat.push(at.saturating_duration_since(written));
        let out = decoded[k].expect("the client passed the gift on");
        client_part.push(out.saturating_duration_since(written));
        engine_part.push(at.saturating_duration_since(out));
    }
    client_part.sort();
    engine_part.sort();
    assert_eq!(lat.len(), frame_of.len(), "every gift ran once");
    lat.sort();
    let p99 = percentile(&lat, 0.99);
    println!(
        "latency: {} messages in {frames} frames over {:.1} s ({:.0} messages/s, {pumped} events), \
         {} gifts timed, frame written → RCON command read: p50 {}, p90 {}, p99 {}, max {} \
         (target p99 <= {}: {})",
        frames * pace.batch as u64,
        streamed.as_secs_f64(),
        (frames * pace.batch as u64) as f64 / streamed.as_secs_f64(),
        lat.len(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(p99),
        ms(lat[lat.len() - 1]),
        ms(LATENCY_TARGET),
        if p99 <= LATENCY_TARGET { "met" } else { "NOT met" },
    );
    for (label, part) in [
        ("frame written → event out of the client", &client_part),
        ("event out of the client → RCON command read", &engine_part),
    ] {
        println!(
            "latency:   {label}: p50 {}, p90 {}, p99 {}, max {}",
            ms(percentile(part, 0.50)),
            ms(percentile(part, 0.90)),
            ms(percentile(part, 0.99)),
            ms(part[part.len() - 1]),
        );
    }
    sim.shutdown().await;
}

struct Rate {
    label: String,
    pushed_rate: f64,
    stored_rate: f64,
    lag: Duration,
    stored: u64,
}

/// One flood of `frames` frames of 100 messages, `wait_ms` apart, through client, handler and
/// store; samples the store every 10 ms.
async fn flood(frames: u64, wait_ms: Option<u64>) -> Rate {
    const BATCH: usize = 100;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = store_path(dir.path());
    let profile = Profile::from_json(THROUGHPUT_PROFILE).expect("profile");
    let (engine, _) = Engine::start(
        &profile,
        OutputsExecutor::default(),
        EngineConfig {
            data_dir: Some(dir.path().to_owned()),
            target: "bench".into(),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();
    let sim = start_sim(random_frames(frames, BATCH, wait_ms)).await;
    let cancel = CancellationToken::new();
    let stream = client(&sim).connect(
        Target::User(webcast_sim::DEFAULT_USER.into()),
        cancel.clone(),
    );
    let pumping = {
        let h = h.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { pump(stream, &h, &cancel).await })
    };
    let mut samples: Vec<(Instant, u64)> = Vec::new();
    let mut last_change = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let n = events_stored(&db);
        let now = Instant::now();
        if samples.last().is_none_or(|&(_, m)| m != n) {
            samples.push((now, n));
            last_change = now;
        }
        if pumping.is_finished() && now - last_change > Duration::from_secs(1) {
            break;
        }
    }
    pumping.await.expect("pump");
    engine.shutdown(Shutdown::Drain).await;
    let rec = sim.recorded();
    assert_eq!(rec.connections, 1, "one websocket connection");
    let first = rec
        .pushed
        .first()
        .and_then(|p| p.written_at)
        .expect("first frame");
    let last = rec
        .pushed
        .get(frames as usize - 1)
        .and_then(|p| p.written_at)
        .expect("last frame");
    let stored = samples.last().map_or(0, |s| s.1);
    let all_at = samples.iter().find(|s| s.1 == stored).map_or(last, |s| s.0);
    assert_eq!(
        rec.pushed.len() as u64,
        frames + 1,
        "every frame, then the end"
    );
    let msgs = (frames * BATCH as u64) as f64;
    sim.shutdown().await;
    Rate {
        label: match wait_ms {
            Some(ms) => format!("{} /s ({BATCH} every {ms} ms)", BATCH as u64 * 1000 / ms),
            None => "unpaced".into(),
        },
        pushed_rate: msgs / (last - first).as_secs_f64().max(1e-9),
        stored_rate: msgs / (all_at - first).as_secs_f64().max(1e-9),
        lag: all_at.saturating_duration_since(last),
        stored,
    }
}

async fn throughput() {
    let messages = env_u64("LIVETRIGGER_BENCH_THROUGHPUT_MESSAGES", 100_000);
    let frames = messages.div_ceil(100);
    let mut rows = Vec::new();
    for wait in [Some(10), Some(5), Some(2), Some(1), None] {
        rows.push(flood(frames, wait).await);
    }
    let expected = rows[0].stored;
    println!(
        "throughput: {} messages a run (frames of 100), events stored per run: {expected}",
        frames * 100
    );
    println!("| simulator's pacing | pushed (msg/s) | all stored (msg/s) | lag after last frame | events stored | sustained |");
    println!("|---|---:|---:|---:|---:|---|");
    let mut best = 0.0f64;
    for r in &rows {
        let sustained = r.stored == expected && r.lag <= MAX_LAG;
        if sustained {
            best = best.max(r.stored_rate);
        }
        println!(
            "| {} | {:.0} | {:.0} | {} | {} | {} |",
            r.label,
            r.pushed_rate,
            r.stored_rate,
            ms(r.lag),
            r.stored,
            if sustained { "yes" } else { "no" }
        );
    }
    println!("throughput: highest sustained rate {best:.0} messages/s");
    // Every message, plus the connect and the stream's end.
    assert_eq!(expected, frames * 100 + 2, "every event stored");
    for r in &rows {
        assert_eq!(r.stored, expected, "{}: every event stored", r.label);
    }
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn rss() {
    let seconds = env_u64("LIVETRIGGER_BENCH_FLOOD_SECONDS", 10);
    let limit = FLOOD_RATE * seconds;
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon server");
    let cfg = SimConfig {
        scenario: Scenario::Random {
            rate: FLOOD_RATE as f64,
            seed: SEED,
            limit: Some(limit),
        },
        ..SimConfig::default()
    };
    let sim = Simulator::start(cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile.json");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/minecraft-starter.json"),
        &profile,
    )
    .expect("copy the starter profile");
    let data = dir.path().join("data");
    let db = store_path(&data.join("engine"));
    let mut child = cli_run(
        BIN,
        &profile,
        &sim.base_url(),
        &rcon.addr().to_string(),
        &data,
        PASSWORD,
    )
    .spawn()
    .expect("start livetrigger-cli");
    let pid = child.id().expect("pid");
    let started = Instant::now();
    let mut stored = 0;
    let mut last_change = Instant::now();
    let mut peak = 0;
    let mut peak_at = (Duration::ZERO, 0u64);
    // Until the simulator has pushed everything and the store has stopped growing.
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(kb) = status_kb(pid, "VmHWM:") {
            if kb > peak {
                peak = kb;
                peak_at = (started.elapsed(), stored);
            }
        }
        let n = events_stored(&db);
        if n != stored {
            stored = n;
            last_change = Instant::now();
        }
        let quiet = last_change.elapsed();
        if (quiet > Duration::from_secs(2) && sim.recorded().messages_pushed >= limit)
            || quiet > Duration::from_secs(30)
        {
            break;
        }
    }
    let pushed = sim.recorded().messages_pushed;
    let anon = status_kb(pid, "RssAnon:").unwrap_or(0);
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    loop {
        if let Some(kb) = status_kb(pid, "VmHWM:") {
            peak = peak.max(kb);
        }
        if let Ok(status) = tokio::time::timeout(Duration::from_millis(100), child.wait()).await {
            let status = status.expect("wait");
            assert!(status.success(), "livetrigger-cli exited with {status}");
            break;
        }
    }
    let mb = peak as f64 / 1024.0;
    println!(
        "rss: {pushed} messages pushed at {FLOOD_RATE}/s, {stored} events stored; peak RSS of \
         livetrigger-cli run {mb:.1} MB (target <= {RSS_TARGET_MB} MB: {}), reached after {:.1} s \
         with {} events stored; RssAnon at the end {:.1} MB",
        if mb <= RSS_TARGET_MB {
            "met"
        } else {
            "NOT met"
        },
        peak_at.0.as_secs_f64(),
        peak_at.1,
        anon as f64 / 1024.0,
    );
    assert!(pushed >= limit, "the simulator pushed the whole flood");
    // Every message, plus the connect.
    assert_eq!(stored, pushed + 1, "every event stored");
    sim.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks a harness-less bench for its tests.
    }
    let wanted: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.contains(&name);
    if run("latency") {
        latency().await;
    }
    if run("throughput") {
        throughput().await;
    }
    if run("rss") {
        rss().await;
    }
}
