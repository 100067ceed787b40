//! A flood: 20,000 events a second for 3 seconds (likes, joins, `!tnt` spam, gifts and
//! replayed duplicates) through the handler and the SQLite store, into a lane that cannot keep
//! up with the spam. Not one paid-gift action may be lost or doubled; the only drops are the
//! overflow policy's, of unpaid items, and they are recorded.

use std::time::Duration;

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{Engine, EngineConfig, Input, Profile, Recorder, Shutdown};

const RATE_PER_MS: u64 = 20;
const MILLIS: u64 = 3_000;

fn viewer(id: u64) -> Viewer {
    Viewer {
        id,
        unique_id: format!("v{id}"),
        nickname: format!("Viewer {id}"),
        ..Viewer::default()
    }
}

/// Event `n` of the flood; gifts every 50th, a replay of the previous gift every 700th.
fn event(n: u64) -> (Input, u32) {
    let user = Some(viewer(n % 5_000));
    let (payload, units) = match n % 50 {
        0 => {
            let units = (n / 50 % 3 + 1) as u32;
            (
                Payload::Gift(GiftIn {
                    gift_id: 5655,
                    name: "Rose".into(),
                    coins: 1,
                    streakable: true,
                    group_id: n,
                    streak_generation: 0,
                    repeat_count: units,
                    delta: units,
                    settled: Some((units, Settle::Final)),
                }),
                units,
            )
        }
        1..=20 => (
            Payload::Like {
                count: 3,
                total: n * 3,
            },
            0,
        ),
        21..=35 => (
            Payload::Chat {
                text: "!tnt".into(),
            },
            0,
        ),
        _ => (Payload::Join, 0),
    };
    (
        Input {
            msg_id: n + 1,
            is_history: false,
            user,
            payload,
        },
        units,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_events_a_second_lose_no_paid_action() {
    let profile = Profile::from_json(
        r#"{"schemaVersion": 1,
        "lanes": [{"name": "minecraft", "minGapMs": 0, "maxDepth": 500, "overflow": "dropNewest", "protectPaid": true}],
        "actions": [{"id": "creeper", "steps": [{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}]},
                    {"id": "tnt", "steps": [{"type": "command", "template": "summon minecraft:tnt ~ ~ ~"}]}],
        "rules": [{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]},
                  {"id": "tnt", "trigger": {"type": "chatCommand", "command": "!tnt"}, "actions": ["tnt"]}]}"#,
    )
    .expect("profile");
    let dir = tempfile::tempdir().expect("tempdir");
    // Each command takes 1 ms: the lane runs ~1,000 a second against ~6,000 `!tnt` a second.
    let rec = Recorder::new().with_command_time(Duration::from_millis(1));
    let (engine, _) = Engine::start(
        &profile,
        rec.clone(),
        EngineConfig {
            data_dir: Some(dir.path().to_owned()),
            target: "flood".into(),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();

    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut expected_units = 0u64;
    let mut unique = 0u64;
    let mut last_gift: Option<Input> = None;
    for ms in 0..MILLIS {
        tick.tick().await;
        for k in 0..RATE_PER_MS {
            let n = ms * RATE_PER_MS + k;
            let (input, units) = event(n);
            if units > 0 {
                expected_units += u64::from(units);
                last_gift = Some(input.clone());
            }
            unique += 1;
            h.submit_input(input).await.expect("submit");
            if n % 700 == 699 {
                if let Some(g) = &last_gift {
                    h.submit_input(g.clone()).await.expect("submit duplicate");
                }
            }
        }
    }
    let submit_time = started.elapsed();
    // The handler kept pace: submitting never waited long on a full buffer.
    assert!(submit_time < Duration::from_secs(8), "{submit_time:?}");
    assert!(h.drain_for(Duration::from_secs(60)).await, "drained");

    let creepers = rec
        .commands()
        .iter()
        .filter(|c| c.as_str() == "summon minecraft:creeper ~ ~ ~")
        .count() as u64;
    assert_eq!(creepers, expected_units, "every Rose unit ran exactly once");

    h.flush_store().await.expect("flush");
    let store = h.store().expect("store");
    let (events, paid_dropped, dropped, done_paid) = store
        .query(|c| {
            let one =
                |sql: &str| -> Result<i64, rusqlite::Error> { c.query_row(sql, [], |r| r.get(0)) };
            Ok((
                one("SELECT COUNT(*) FROM events")?,
                one("SELECT COUNT(*) FROM items WHERE status = 'dropped' AND paid = 1")?,
                one("SELECT COUNT(*) FROM items WHERE status = 'dropped'")?,
                one("SELECT COUNT(*) FROM items WHERE status = 'done' AND paid = 1")?,
            ))
        })
        .await
        .expect("query");
    assert_eq!(
        events as u64, unique,
        "every event recorded once, duplicates not"
    );
    assert_eq!(paid_dropped, 0);
    assert_eq!(done_paid as u64, expected_units);
    assert!(
        dropped > 0,
        "the spam overflowed the lane (the policy was exercised)"
    );
    let lane = h
        .lanes()
        .into_iter()
        .find(|l| l.name == "minecraft")
        .expect("lane");
    assert_eq!(lane.dropped as i64, dropped, "drops are counted");
    eprintln!(
        "{unique} events in {submit_time:?}; {expected_units} paid units all run; {dropped} unpaid items dropped by policy"
    );
    engine.shutdown(Shutdown::Drain).await;
}
