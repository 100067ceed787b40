//! A storm never buries a paid gift (issue 8 §9), age limits (§4, lane half), paid items kept
//! out of memory (§7), and paid units that leave a trace when they do not run (§6).
//!
//! The storm runs in paused time against a recording executor whose commands take 5 ms, in a
//! lane with the starter's settings (serial, 50 ms gap, 300 unpaid, 20 s unpaid age limit).

use std::collections::HashMap;
use std::time::Duration;

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineHandle, EngineUpdate, Input, ItemStatus, Profile, Recorder,
    Shutdown,
};
use tokio::sync::broadcast;
use tokio::time::Instant;

fn viewer(id: u64) -> Viewer {
    Viewer {
        id,
        unique_id: format!("user{id}"),
        nickname: format!("User {id}"),
        ..Viewer::default()
    }
}

fn input(msg_id: u64, user: u64, payload: Payload) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(user)),
        payload,
    }
}

fn roses(msg_id: u64, user: u64, count: u32) -> Input {
    input(
        msg_id,
        user,
        Payload::Gift(GiftIn {
            gift_id: 5655,
            name: "Rose".into(),
            coins: 1,
            streakable: true,
            group_id: msg_id,
            streak_generation: 0,
            repeat_count: count,
            delta: count,
            settled: Some((count, Settle::Final)),
        }),
    )
}

fn chat(msg_id: u64, user: u64, text: &str) -> Input {
    input(msg_id, user, Payload::Chat { text: text.into() })
}

/// The starter's rules and lane settings, with commands that name the viewer.
const STORM: &str = r#"{"schemaVersion": 2,
  "lanes": [{"name": "minecraft", "mode": "serial", "minGapMs": 50, "maxDepth": 300,
             "overflow": "dropNewest", "maxAgeMs": 300000, "unpaidMaxAgeMs": 20000}],
  "actions": [
    {"id": "creeper", "steps": [{"type": "command", "template": "paid creeper {username}"}]},
    {"id": "thanks", "steps": [{"type": "command", "template": "unpaid thanks {username}"}]},
    {"id": "tnt", "steps": [{"type": "command", "template": "unpaid tnt {username}"}]},
    {"id": "time", "steps": [{"type": "command", "template": "unpaid time add {count}000"}]}],
  "rules": [
    {"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "streakMode": "perUnit", "actions": ["creeper"]},
    {"id": "follow", "trigger": {"type": "follow"}, "filters": {"oncePerUserPerStream": true}, "actions": ["thanks"]},
    {"id": "tnt", "trigger": {"type": "chatCommand", "command": "!tnt"},
     "filters": {"userCooldownMs": 10000, "globalCooldownMs": 250}, "actions": ["tnt"]},
    {"id": "likes", "trigger": {"type": "likes", "every": 100}, "actions": ["time"]}]}"#;

const COMMAND_TIME: Duration = Duration::from_millis(5);
const SLOT: Duration = Duration::from_millis(55); // command + gap

#[tokio::test(start_paused = true)]
async fn a_storm_never_buries_a_paid_gift() {
    let rec = Recorder::new().with_command_time(COMMAND_TIME);
    let (engine, _) = Engine::start(
        &Profile::from_json(STORM).unwrap(),
        rec.clone(),
        EngineConfig::default(),
    )
    .unwrap();
    let h = engine.handle();
    let t0 = Instant::now();
    let mut rng = fastrand::Rng::with_seed(8);
    let mut msg = 0u64;
    let mut likes_total = 0u64;
    // Gifter id → (sent at, units).
    let mut gifts: HashMap<u64, (Instant, u32)> = HashMap::new();
    let mut peak_waiting = 0;
    // 10 s at 10,000 events/s: likes from new viewers, `!tnt` from new viewers, follows, and
    // every 250 ms a Rose streak from a new gifter.
    for tick in 0..1_000u64 {
        for _ in 0..100 {
            msg += 1;
            let who = 1_000_000 + msg;
            let ev = match rng.u8(0..10) {
                0..=4 => {
                    let n = rng.u32(1..=15);
                    likes_total += u64::from(n);
                    input(
                        msg,
                        who,
                        Payload::Like {
                            count: n,
                            total: likes_total,
                        },
                    )
                }
                5..=7 => chat(msg, who, "!tnt"),
                _ => input(msg, who, Payload::Follow),
            };
            h.submit_input(ev).await.unwrap();
        }
        if tick % 25 == 0 {
            msg += 1;
            let gifter = 10 + tick;
            let units = 1 + (tick % 3) as u32;
            gifts.insert(gifter, (Instant::now(), units));
            h.submit_input(roses(msg, gifter, units)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        let lane = &h.lanes()[0];
        peak_waiting = peak_waiting.max(lane.waiting);
    }
    let storm_end = Instant::now();
    h.drain().await.unwrap();
    let idle_after = Instant::now() - storm_end;
    let lane = h
        .lanes()
        .into_iter()
        .find(|l| l.name == "minecraft")
        .unwrap();
    engine.shutdown(Shutdown::Drain).await;

    // Start time of each command (the recorder logs its end).
    let log: Vec<(Instant, String)> = rec
        .log()
        .into_iter()
        .map(|(at, r)| match r {
            livetrigger_engine::engine::exec::Recorded::Command(c) => (at - COMMAND_TIME, c),
            other => panic!("{other:?}"),
        })
        .collect();
    let paid: Vec<(Instant, u64)> = log
        .iter()
        .filter_map(|(at, c)| {
            c.strip_prefix("paid creeper user")
                .map(|id| (*at, id.parse::<u64>().unwrap()))
        })
        .collect();
    // Every paid unit ran, exactly once.
    let units: u32 = gifts.values().map(|g| g.1).sum();
    assert_eq!(paid.len(), units as usize);
    for (gifter, (_, n)) in &gifts {
        assert_eq!(
            paid.iter().filter(|p| p.1 == *gifter).count(),
            *n as usize,
            "gifter {gifter}"
        );
    }
    // No priority inversion: no unpaid command starts while a paid unit waits.
    let last_start: HashMap<u64, Instant> = paid.iter().map(|(at, g)| (*g, *at)).collect();
    for (at, c) in log.iter().filter(|(_, c)| c.starts_with("unpaid")) {
        for (g, (sent, _)) in &gifts {
            assert!(
                !(*sent < *at && *at < last_start[g]),
                "{c} started at {:?} while gifter {g}'s units (sent at {:?}) waited",
                *at - t0,
                *sent - t0
            );
        }
    }
    // Paid waits are bounded by the paid work ahead of them (plus the one item running).
    let mut waits = Vec::new();
    for (start, g) in &paid {
        let (sent, _) = gifts[g];
        let ahead = paid
            .iter()
            .filter(|(s, other)| *s < *start && *s >= sent && gifts[other].0 <= sent)
            .count() as u32;
        let wait = *start - sent;
        assert!(
            wait <= SLOT * (ahead + 1),
            "gifter {g}: waited {wait:?} with {ahead} paid units ahead"
        );
        waits.push(wait);
    }
    waits.sort();
    let unpaid = log.len() - paid.len();
    println!(
        "storm: {} events in 10 s; {} paid units, {unpaid} unpaid commands; paid wait median {:?}, max {:?}; \
         peak waiting {peak_waiting}; expired {}, dropped {}, merged {}; idle {:?} after the storm",
        msg,
        paid.len(),
        waits[waits.len() / 2],
        waits[waits.len() - 1],
        lane.expired,
        lane.dropped,
        lane.coalesced,
        idle_after
    );
    assert!(idle_after <= Duration::from_secs(60), "{idle_after:?}");
    assert!(peak_waiting <= 300 + units as usize, "{peak_waiting}");
    assert!(lane.expired > 0 && lane.dropped > 0, "{lane:?}");
    // `!tnt` has a global cooldown: at most 4 a second, whatever the chat does.
    let tnt = log
        .iter()
        .filter(|(_, c)| c.starts_with("unpaid tnt"))
        .count();
    assert!(tnt <= 41, "{tnt}");
}

fn finals(rx: &mut broadcast::Receiver<EngineUpdate>) -> Vec<(u64, ItemStatus)> {
    let mut out = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let EngineUpdate::Item(u) = u {
            if u.status.is_final() {
                out.push((u.item.id, u.status));
            }
        }
    }
    out
}

fn start(json: &str, rec: &Recorder, data: Option<&std::path::Path>) -> (Engine, EngineHandle) {
    let (engine, _) = Engine::start(
        &Profile::from_json(json).unwrap(),
        rec.clone(),
        EngineConfig {
            data_dir: data.map(|d| d.to_owned()),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let h = engine.handle();
    (engine, h)
}

#[tokio::test(start_paused = true)]
async fn unpaid_items_expire_after_20_s_even_paused_paid_items_do_not_age_while_paused() {
    let rec = Recorder::new();
    let (engine, h) = start(STORM, &rec, None);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    h.submit_input(chat(1, 1, "!tnt")).await.unwrap();
    h.submit_input(roses(2, 2, 2)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(19)).await;
    assert_eq!(h.lanes()[0].waiting, 3);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let f = finals(&mut rx);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        matches!(&f[0].1, ItemStatus::Expired { reason } if reason.contains("unpaidMaxAgeMs") && reason.contains("20 s")),
        "{f:?}"
    );
    assert_eq!(h.lanes()[0].waiting, 2);
    // The streamer's 6-minute break: paid items do not age while the lane is paused.
    tokio::time::sleep(Duration::from_secs(340)).await;
    let f = finals(&mut rx);
    assert!(f.is_empty(), "{f:?}");
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    assert_eq!(rec.commands(), vec!["paid creeper user2"; 2]);
    assert_eq!(h.lanes()[0].expired, 1);
    engine.shutdown(Shutdown::Drain).await;
}

/// Only paused time is discounted: a paid item waiting behind a stuck output ages before
/// and after a pause (230 s + 70 s = the 5-minute limit), not during its 10 minutes.
#[tokio::test(start_paused = true)]
async fn paid_items_age_before_and_after_a_pause_but_not_during_it() {
    // The first command takes 1000 s: the second item waits behind it (an outage counts).
    let rec = Recorder::new().with_command_time(Duration::from_secs(1000));
    let (engine, h) = start(STORM, &rec, None);
    let mut rx = h.subscribe();
    h.submit_input(roses(1, 1, 1)).await.unwrap();
    h.submit_input(roses(2, 2, 1)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(230)).await;
    h.pause("minecraft").unwrap();
    tokio::time::sleep(Duration::from_secs(600)).await;
    let f = finals(&mut rx);
    assert!(f.is_empty(), "{f:?}");
    h.resume("minecraft").unwrap();
    tokio::time::sleep(Duration::from_secs(69)).await;
    let f = finals(&mut rx);
    assert!(f.is_empty(), "{f:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let f = finals(&mut rx);
    assert!(
        matches!(&f[..], [(_, ItemStatus::Expired { reason })] if reason.contains("maxAgeMs")),
        "{f:?}"
    );
    engine.shutdown(Shutdown::Persist).await;
}

/// An output stuck for minutes (an RCON outage): the paid backlog behind it does not all fire
/// when it comes back; what waited over `maxAgeMs` is listed as expired.
#[tokio::test(start_paused = true)]
async fn after_a_long_outage_the_stale_paid_backlog_expires_visibly() {
    let rec = Recorder::new().with_command_time(Duration::from_secs(400));
    let (engine, h) = start(STORM, &rec, None);
    let mut rx = h.subscribe();
    for i in 0..5 {
        h.submit_input(roses(10 + i, 20 + i, 1)).await.unwrap();
    }
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    assert_eq!(rec.commands(), vec!["paid creeper user20"]);
    let expired = f
        .iter()
        .filter(|(_, s)| matches!(s, ItemStatus::Expired { .. }))
        .count();
    assert_eq!(expired, 4, "{f:?}");
    engine.shutdown(Shutdown::Drain).await;
}

const SMALL: &str = r#"{"schemaVersion": 2,
  "lanes": [{"name": "minecraft", "maxDepth": 4}],
  "actions": [
    {"id": "creeper", "steps": [{"type": "command", "template": "paid creeper {username}"}]},
    {"id": "thanks", "steps": [{"type": "command", "template": "unpaid thanks {username}"}]}],
  "rules": [
    {"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]},
    {"id": "follow", "trigger": {"type": "follow"}, "actions": ["thanks"]}]}"#;

/// Paid items beyond the lane's depth wait in the store, not in memory, and still run in
/// order before any unpaid item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_items_over_the_depth_wait_in_the_store_and_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (engine, h) = start(SMALL, &rec, Some(dir.path()));
    h.pause("minecraft").unwrap();
    h.submit_input(input(1, 1, Payload::Follow)).await.unwrap();
    for i in 0..30 {
        h.submit_input(roses(100 + i, 200 + i, 1)).await.unwrap();
    }
    h.submit_input(input(2, 2, Payload::Follow)).await.unwrap();
    // Handled and queued (a paused lane with items counts as idle).
    h.drain().await.unwrap();
    let lane = h
        .lanes()
        .into_iter()
        .find(|l| l.name == "minecraft")
        .unwrap();
    assert_eq!(
        (lane.waiting, lane.waiting_paid, lane.spilled),
        (32, 30, 26)
    );
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let mut want: Vec<String> = (0..30)
        .map(|i| format!("paid creeper user{}", 200 + i))
        .collect();
    want.push("unpaid thanks user1".into());
    want.push("unpaid thanks user2".into());
    assert_eq!(rec.commands(), want);
    let stats = h.stats().await.unwrap();
    engine.shutdown(Shutdown::Drain).await;
    let items: HashMap<String, u64> = stats.items.into_iter().collect();
    assert_eq!(items.get("done"), Some(&32), "{items:?}");
}

#[tokio::test(start_paused = true)]
async fn without_a_store_paid_items_over_the_depth_are_refused_visibly() {
    let rec = Recorder::new();
    let (engine, h) = start(SMALL, &rec, None);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    for i in 0..6 {
        h.submit_input(roses(100 + i, 200 + i, 1)).await.unwrap();
    }
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f
        .iter()
        .all(|(_, s)| matches!(s, ItemStatus::Dropped { reason } if reason.contains("no store"))));
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    assert_eq!(rec.commands().len(), 4);
    engine.shutdown(Shutdown::Drain).await;
}

/// A paid unit a filter, a cooldown or the per-streak cap stopped is a `skipped` item with the
/// reason, stored and broadcast like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_units_that_do_not_run_leave_skipped_items_with_the_reason() {
    let json = r#"{"schemaVersion": 2,
      "actions": [{"id": "creeper", "steps": [{"type": "command", "template": "summon creeper {count}"}]}],
      "rules": [{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "maxPerStreak": 3,
                 "filters": {"userCooldownMs": 60000}, "actions": ["creeper"]},
                {"id": "fans", "trigger": {"type": "gift", "name": "Rose"}, "streakMode": "perStreak",
                 "filters": {"followersOnly": true}, "actions": ["creeper"]}]}"#;
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (engine, h) = start(json, &rec, Some(dir.path()));
    let mut rx = h.subscribe();
    h.submit_input(roses(1, 5, 5)).await.unwrap();
    h.submit_input(roses(2, 5, 2)).await.unwrap();
    h.drain().await.unwrap();
    let stats = h.stats().await.unwrap();
    let mut skipped = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let EngineUpdate::Item(u) = u {
            if let ItemStatus::Skipped { reason } = &u.status {
                skipped.push((
                    u.item.rule_id.clone(),
                    u.item.vars.count,
                    reason.clone(),
                    u.item.paid,
                ));
            }
        }
    }
    engine.shutdown(Shutdown::Drain).await;
    assert_eq!(rec.commands(), vec!["summon creeper 1"; 3]);
    let reasons: Vec<(&str, Option<u64>)> = skipped.iter().map(|s| (s.0.as_str(), s.1)).collect();
    assert_eq!(
        reasons,
        vec![
            ("rose", Some(2)),
            ("fans", Some(5)),
            ("rose", Some(2)),
            ("fans", Some(2))
        ],
        "{skipped:#?}"
    );
    assert!(skipped[0].2.contains("limit of 3"), "{skipped:?}");
    assert!(skipped[1].2.contains("followers only"), "{skipped:?}");
    assert!(skipped[2].2.contains("cooldown"), "{skipped:?}");
    assert!(skipped.iter().all(|s| s.3));
    let items: HashMap<String, u64> = stats.items.into_iter().collect();
    assert_eq!(items.get("skipped"), Some(&4), "{items:?}");
}

/// Paid items waiting in the store when the app stops are there at the next start, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spilled_paid_items_resume_after_a_restart_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (engine, h) = start(SMALL, &rec, Some(dir.path()));
    h.pause("minecraft").unwrap();
    for i in 0..10 {
        h.submit_input(roses(100 + i, 200 + i, 1)).await.unwrap();
    }
    h.drain().await.unwrap();
    assert_eq!(h.lanes()[0].spilled, 6);
    engine.shutdown(Shutdown::Persist).await;
    assert!(rec.commands().is_empty());

    let rec = Recorder::new();
    let (engine, report) = Engine::start(
        &Profile::from_json(SMALL).unwrap(),
        rec.clone(),
        EngineConfig {
            data_dir: Some(dir.path().to_owned()),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    assert_eq!(report.resumed, 10);
    let h = engine.handle();
    h.drain().await.unwrap();
    let want: Vec<String> = (0..10)
        .map(|i| format!("paid creeper user{}", 200 + i))
        .collect();
    assert_eq!(rec.commands(), want);
    engine.shutdown(Shutdown::Drain).await;
}

/// A paid item that waits in the store but cannot be read back is not silently forgotten:
/// its row is marked failed with the reason and the queue view is told, so it neither shows
/// as waiting forever nor comes back at every start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_item_unreadable_in_the_store_is_marked_failed_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (engine, h) = start(SMALL, &rec, Some(dir.path()));
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    for i in 0..8 {
        h.submit_input(roses(100 + i, 200 + i, 1)).await.unwrap();
    }
    h.drain().await.unwrap();
    // Runs after every write sent before it: the spilled rows are in the file.
    h.stats().await.unwrap();
    let db =
        rusqlite::Connection::open(dir.path().join(livetrigger_engine::engine::store::DB_FILE))
            .unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    let bad: i64 = db
        .query_row(
            "SELECT MAX(id) FROM items WHERE status = 'queued' AND paid = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute("UPDATE items SET vars = 'not json' WHERE id = ?1", [bad])
        .unwrap();
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let stats = h.stats().await.unwrap();
    engine.shutdown(Shutdown::Drain).await;
    assert_eq!(rec.commands().len(), 7);
    let (status, reason): (String, Option<String>) = db
        .query_row(
            "SELECT status, reason FROM items WHERE id = ?1",
            [bad],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(status, "failed");
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("read back")),
        "{reason:?}"
    );
    let items: HashMap<String, u64> = stats.items.into_iter().collect();
    assert_eq!(items.get("failed"), Some(&1), "{items:?}");
    let shown = finals(&mut rx).into_iter().any(|(id, s)| {
        id == bad as u64
            && matches!(s, ItemStatus::Failed { ref reason, .. } if reason.contains("read back"))
    });
    assert!(shown, "the queue view is told");
}
