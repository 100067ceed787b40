//! Peak memory of `livetrigger-cli run` under abuse (issue 8 §7): 1,000,000 distinct likers
//! plus 100,000 paid units queued behind a 50 ms Minecraft lane, with the starter profile,
//! against the webcast simulator and the Minecraft-faithful RCON server (both in this process,
//! on 127.0.0.1). The CLI runs as its own process; its peak resident set (`VmHWM`, Linux) is
//! the figure. Target: at most 60 MB.
//!
//! ```bash
//! cargo bench -p livetrigger-cli --bench memory
//! ```
//!
//! When every event is in the CLI's store, the run gets Ctrl-C (SIGINT): waiting items stay
//! queued for the next start, which is what a streamer's app would do at that point.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use webcast_sim::{Msg, Script, SimConfig, SimUser, Simulator, Step};

#[path = "cli_run.rs"]
mod cli_run;
use cli_run::cli_run;

const BIN: &str = env!("CARGO_BIN_EXE_livetrigger-cli");
const PASSWORD: &str = "memory-bench";
const LIKERS: u64 = 1_000_000;
const GIFTS: u64 = 1_000;
const UNITS_PER_GIFT: u32 = 100;
const PER_FRAME: u64 = 1_000;
const TARGET_MB: f64 = 60.0;

fn script() -> Script {
    let mut steps = Vec::new();
    let mut total = 0u64;
    let mut gift = 0u64;
    for frame in 0..LIKERS / PER_FRAME {
        let mut messages = Vec::with_capacity(PER_FRAME as usize);
        for i in 0..PER_FRAME {
            let id = 10_000_000 + frame * PER_FRAME + i;
            total += 1;
            messages.push(Msg::Like {
                user: SimUser::new(id, &format!("liker{id}"), &format!("Liker {id}")),
                count: 1,
                total,
            });
        }
        steps.push(Step::Frame { messages });
        // A frame of paid gifts after every 10 frames of likes: 1,000 streaks of 100 Roses.
        if frame % 10 == 9 {
            let messages = (0..GIFTS / 100)
                .map(|_| {
                    gift += 1;
                    Msg::Gift {
                        user: SimUser::new(
                            gift,
                            &format!("gifter{gift}"),
                            &format!("Gifter {gift}"),
                        ),
                        gift_id: 5655,
                        name: "Rose".into(),
                        diamond_count: 1,
                        gift_type: 1,
                        repeat_count: UNITS_PER_GIFT,
                        repeat_end: true,
                        group_id: gift,
                    }
                })
                .collect();
            steps.push(Step::Frame { messages });
        }
    }
    Script {
        history: Vec::new(),
        steps,
    }
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `RssAnon` / `RssFile` / `RssShmem` now, in kB: heap versus mapped files (code, SQLite's
/// shared memory), to tell what the peak is made of.
fn rss_parts(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter(|l| {
            l.starts_with("RssAnon") || l.starts_with("RssFile") || l.starts_with("RssShmem")
        })
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where `run --data-dir DATA` keeps its store.
fn store_path(data: &Path) -> PathBuf {
    data.join("engine").join("livetrigger.sqlite3")
}

fn events_stored(data: &Path) -> u64 {
    let db = store_path(data);
    rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .unwrap_or(0)
}

/// Paid items of the Minecraft lane in the store (one creeper per Rose; the sound lane has
/// a fanfare per 100-Rose streak besides), and how many of them are still queued.
fn paid_items(data: &Path) -> (u64, u64) {
    let db = store_path(data);
    let c = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store");
    let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql) as u64;
    (
        count("SELECT COUNT(*) FROM items WHERE paid = 1 AND lane = 'minecraft'"),
        count("SELECT COUNT(*) FROM items WHERE paid = 1 AND lane = 'minecraft' AND status = 'queued'"),
    )
}

fn starter_profile(dir: &Path) -> PathBuf {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/minecraft-starter.json");
    let path = dir.join("profile.json");
    std::fs::copy(src, &path).expect("copy the starter profile");
    path
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks a harness-less bench for its tests.
    }
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon server");
    let sim = Simulator::start(
        SimConfig::with_script(script()),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = starter_profile(dir.path());
    let data = dir.path().join("data");
    let started = Instant::now();
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
    // Every like and every gift message, and the connect, as events in the CLI's store.
    let want = LIKERS + GIFTS + 1;
    let mut peak = 0u64;
    // When the peak was reached, how many events were stored by then, and how many messages
    // the simulator had pushed (the difference is what the CLI still held in its buffers).
    let mut peak_at = (Duration::ZERO, 0u64, 0u64);
    let mut parts = String::new();
    let mut stored = 0;
    let mut last_change = Instant::now();
    while stored < want && last_change.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = events_stored(&data);
        let rss = peak_rss_kb(pid).unwrap_or(0);
        if rss > peak {
            peak = rss;
            peak_at = (started.elapsed(), now, sim.recorded().messages_pushed);
            parts = rss_parts(pid);
        }
        if now != stored {
            stored = now;
            last_change = Instant::now();
        }
    }
    let handled = started.elapsed();
    let executed = rcon.state().executed().len();
    // Ctrl-C, as a user would press it: SIGINT through kill(1).
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    loop {
        let rss = peak_rss_kb(pid).unwrap_or(0);
        if rss > peak {
            peak = rss;
            peak_at = (started.elapsed(), stored, peak_at.2.max(stored));
            parts = rss_parts(pid);
        }
        match tokio::time::timeout(Duration::from_millis(100), child.wait()).await {
            Ok(status) => {
                let status = status.expect("wait");
                assert!(status.success(), "livetrigger-cli exited with {status}");
                break;
            }
            Err(_) => continue,
        }
    }
    let (paid, waiting) = paid_items(&data);
    let mb = peak as f64 / 1024.0;
    println!(
        "memory: {stored} of {want} events stored in {:.1} s ({LIKERS} distinct likers); \
         {paid} paid creeper items, {executed} commands ran, {waiting} still queued at Ctrl-C; \
         peak RSS of livetrigger-cli {mb:.1} MB (target <= {TARGET_MB} MB): {} \
         (reached after {:.1} s, when {} events were stored and {} pushed; {parts})",
        handled.as_secs_f64(),
        if mb <= TARGET_MB { "met" } else { "NOT met" },
        peak_at.0.as_secs_f64(),
        peak_at.1,
        peak_at.2
    );
    assert_eq!(stored, want, "every event reached the store");
    assert_eq!(
        paid,
        GIFTS * u64::from(UNITS_PER_GIFT),
        "every paid unit is an item"
    );
    sim.shutdown().await;
}
