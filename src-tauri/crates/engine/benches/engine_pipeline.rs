//! Engine throughput and latency. Run: `cargo bench -p livetrigger-engine --bench engine_pipeline`.
//!
//! - `event_to_rcon`: one settled Rose submitted to the engine → its command read by the
//!   Minecraft-faithful RCON server over TCP (handler, lane, store write-ahead, RCON actor), with
//!   pacing off. Also prints p50/p99 over 2,000 events sent at 1,000 events/s.
//! - `handler_and_store`: like events through validation, matching and the SQLite writer
//!   (batched), per event.
//! - `store_backpressure`: 200,000 events recorded straight into the store's bounded channel
//!   as fast as one task can; prints the rate, the longest single send (a send waits while
//!   the buffer is full: that is the backpressure) and the peak RSS growth, which stays flat
//!   instead of growing with the backlog.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineHandle, Input, OutputsExecutor, Profile, Recorder, Shutdown,
};
use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use livetrigger_engine::outputs::rcon::{RconConfig, RconOutput};

const PROFILE: &str = r#"{"schemaVersion": 1,
  "lanes": [{"name": "minecraft", "minGapMs": 0, "maxDepth": 100000}],
  "actions": [{"id": "creeper", "steps": [{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}]},
              {"id": "time", "steps": [{"type": "command", "template": "time add 1000"}]}],
  "rules": [{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]},
            {"id": "likes", "trigger": {"type": "likes", "every": 1000000}, "actions": ["time"]}]}"#;

fn rose(n: u64) -> Input {
    Input {
        msg_id: n,
        is_history: false,
        user: Some(Viewer {
            id: n % 100,
            unique_id: format!("v{}", n % 100),
            nickname: "Viewer".into(),
            ..Viewer::default()
        }),
        payload: Payload::Gift(GiftIn {
            gift_id: 5655,
            name: "Rose".into(),
            coins: 1,
            streakable: true,
            group_id: n,
            streak_generation: 0,
            repeat_count: 1,
            delta: 1,
            settled: Some((1, Settle::Final)),
        }),
    }
}

fn like(n: u64) -> Input {
    Input {
        msg_id: n,
        is_history: false,
        user: Some(Viewer {
            id: n % 1000,
            unique_id: format!("v{}", n % 1000),
            nickname: "Viewer".into(),
            ..Viewer::default()
        }),
        payload: Payload::Like { count: 1, total: n },
    }
}

struct Rig {
    _dir: tempfile::TempDir,
    server: McRconServer,
    output: RconOutput,
    engine: Engine,
    h: EngineHandle,
    next: u64,
}

async fn rig(store: bool) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = McRconServer::start("bench").await.expect("server");
    let mut cfg = RconConfig::new(server.addr().to_string(), "bench");
    cfg.command_gap = Duration::ZERO;
    let output = RconOutput::spawn(cfg);
    let exec = OutputsExecutor {
        rcon: Some(output.handle()),
        ..OutputsExecutor::default()
    };
    let profile = Profile::from_json(PROFILE).expect("profile");
    let (engine, _) = Engine::start(
        &profile,
        exec,
        EngineConfig {
            data_dir: store.then(|| dir.path().to_owned()),
            target: "bench".into(),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();
    Rig {
        _dir: dir,
        server,
        output,
        engine,
        h,
        next: 1,
    }
}

impl Rig {
    /// Submits one Rose and waits until the server has executed its command.
    async fn one(&mut self) -> Duration {
        let n = self.next;
        self.next += 1;
        let before = self.server.state().executed().len();
        let t = Instant::now();
        self.h.submit_input(rose(n)).await.expect("submit");
        self.server.state().wait_executed(before + 1).await;
        t.elapsed()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One event every millisecond, each timed from submit to the server's read.
async fn latencies_at_1000_per_s(rig: &mut Rig) -> Vec<Duration> {
    let mut out = Vec::with_capacity(2000);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for _ in 0..2000 {
        tick.tick().await;
        out.push(rig.one().await);
    }
    out
}

fn report(label: &str, mut sorted: Vec<Duration>) {
    sorted.sort();
    eprintln!(
        "event→RCON at 1,000 events/s ({label}), {} events: p50 {:?}, p99 {:?}, max {:?}",
        sorted.len(),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1]
    );
}

fn event_to_rcon(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for store in [false, true] {
        let mut rig = rt.block_on(rig(store));
        let latencies = rt.block_on(latencies_at_1000_per_s(&mut rig));
        report(if store { "with store" } else { "no store" }, latencies);
        rt.block_on(async move {
            rig.engine.shutdown(Shutdown::Drain).await;
            rig.output.shutdown().await;
        });
    }
    // The RCON actor alone, for the breakdown: the same command sent straight to the output.
    let rig0 = rt.block_on(rig(false));
    let direct = rt.block_on(async {
        let rcon = rig0.output.handle();
        let mut out = Vec::with_capacity(2000);
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for _ in 0..2000 {
            tick.tick().await;
            let t = Instant::now();
            rcon.send("summon minecraft:creeper ~ ~ ~")
                .await
                .expect("rcon");
            out.push(t.elapsed());
        }
        out
    });
    report("RCON output alone, no engine", direct);
    rt.block_on(async move {
        rig0.engine.shutdown(Shutdown::Drain).await;
        rig0.output.shutdown().await;
    });
    let mut rig = rt.block_on(rig(true));
    c.bench_function("event_to_rcon", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += rig.one().await;
                }
                total
            })
        })
    });
    rt.block_on(async move {
        rig.engine.shutdown(Shutdown::Drain).await;
        rig.output.shutdown().await;
    });
}

fn handler_and_store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = Profile::from_json(PROFILE).expect("profile");
    let (engine, h) = rt.block_on(async {
        let (engine, _) = Engine::start(
            &profile,
            Recorder::new(),
            EngineConfig {
                data_dir: Some(dir.path().to_owned()),
                target: "bench".into(),
                ..EngineConfig::default()
            },
        )
        .expect("engine");
        let h = engine.handle();
        (engine, h)
    });
    const BATCH: u64 = 10_000;
    let mut next = 1u64;
    let mut group = c.benchmark_group("handler_and_store");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    group.bench_function("like_events", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    for _ in 0..BATCH {
                        h.submit_input(like(next)).await.expect("submit");
                        next += 1;
                    }
                    // Handled and committed, not just handed over.
                    h.drain().await.expect("drain");
                    h.flush_store().await.expect("flush");
                }
                t.elapsed()
            })
        })
    });
    group.finish();
    rt.block_on(engine.shutdown(Shutdown::Drain));
}

/// Peak resident memory of this process, from /proc (Linux); 0 elsewhere.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn store_backpressure(c: &mut Criterion) {
    use livetrigger_engine::engine::store::{Store, STORE_BUFFER};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    const EVENTS: u64 = 200_000;
    let mut group = c.benchmark_group("store_backpressure");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    let mut printed = false;
    group.bench_function("record_200k_events", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("tempdir");
                let (store, _) = Store::open(dir.path(), "bench").expect("store");
                let h = store.handle();
                let rss_before = peak_rss_kb();
                let (elapsed, longest) = rt.block_on(async {
                    let t = Instant::now();
                    let mut longest = Duration::ZERO;
                    for n in 0..EVENTS {
                        let one = Instant::now();
                        h.record_event(&like(n + 1), "liked");
                        longest = longest.max(one.elapsed());
                    }
                    h.flush().await.expect("flush");
                    (t.elapsed(), longest)
                });
                if !printed {
                    printed = true;
                    println!(
                        "\nstore: {EVENTS} events in {elapsed:.2?} ({:.0}/s); buffer {STORE_BUFFER} ops; longest send {longest:.2?}; peak RSS +{} KiB",
                        EVENTS as f64 / elapsed.as_secs_f64(),
                        peak_rss_kb().saturating_sub(rss_before)
                    );
                }
                total += elapsed;
                store.close();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    event_to_rcon,
    handler_and_store,
    store_backpressure
);
criterion_main!(benches);
