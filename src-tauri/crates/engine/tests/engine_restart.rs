//! Restarts: a waiting item from the last run is expired when too old for its lane, dropped
//! when its rule or action is gone, and otherwise rendered again with the current profile;
//! every one is listed and readable later from the engine. Message ids and streak ledgers
//! survive, so nothing acted on before a crash is acted on again, and a half-settled streak
//! settles only its remaining units. Old events are deleted by the retention setting.

use std::time::Duration;

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, Input, Profile, Recorder, Shutdown, StoreOptions,
};

fn profile(rules_json: &str, say_template: &str) -> Profile {
    Profile::from_json(&format!(
        r#"{{"schemaVersion": 1,
        "lanes": [{{"name": "minecraft", "minGapMs": 0, "maxAgeMs": 60000, "unpaidMaxAgeMs": 60000}}],
        "actions": [{{"id": "say", "steps": [{{"type": "command", "template": "{say_template}"}}]}},
                    {{"id": "creeper", "steps": [{{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}}]}}],
        "rules": [{rules_json}]}}"#
    ))
    .expect("profile")
}

const CHAT_RULE: &str =
    r#"{"id": "chat", "trigger": {"type": "chatCommand", "command": "!say"}, "actions": ["say"]}"#;
const ROSE_RULE: &str =
    r#"{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]}"#;

fn viewer(id: u64) -> Viewer {
    Viewer {
        id,
        unique_id: format!("v{id}"),
        nickname: format!("V{id}"),
        ..Viewer::default()
    }
}

fn chat(msg_id: u64, text: &str) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(1)),
        payload: Payload::Chat { text: text.into() },
    }
}

fn rose(msg_id: u64, count: u32, settled: Option<(u32, Settle)>) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(2)),
        payload: Payload::Gift(GiftIn {
            gift_id: 5655,
            name: "Rose".into(),
            coins: 1,
            streakable: true,
            group_id: 42,
            streak_generation: 0,
            repeat_count: count,
            delta: 0,
            settled,
        }),
    }
}

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig {
        data_dir: Some(dir.to_owned()),
        target: "@streamer".into(),
        ..EngineConfig::default()
    }
}

fn sql(dir: &std::path::Path, statement: &str) {
    let conn = rusqlite::Connection::open(dir.join("livetrigger.sqlite3")).expect("db");
    conn.execute_batch(statement).expect("sql");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_items_are_expired_dropped_or_rendered_again_and_all_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let both = format!("{CHAT_RULE}, {ROSE_RULE}");
    let (engine, _) = Engine::start(
        &profile(&both, "say {comment}"),
        rec.clone(),
        config(dir.path()),
    )
    .expect("engine");
    let h = engine.handle();
    h.pause("minecraft").expect("pause");
    h.submit_input(chat(1, "!say old")).await.expect("submit");
    h.submit_input(chat(2, "!say fresh")).await.expect("submit");
    h.submit_input(rose(3, 1, Some((1, Settle::Final))))
        .await
        .expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    engine.shutdown(Shutdown::Persist).await;
    assert!(rec.commands().is_empty());
    // The first chat item waited 10 minutes (the app was down); the lane allows one (for unpaid
    // items too: `unpaidMaxAgeMs`).
    sql(
        dir.path(),
        "UPDATE items SET queued_ms = queued_ms - 600000 WHERE msg_id = 1",
    );

    // Restart with the Rose rule deleted and the chat command edited.
    let (engine, report) = Engine::start(
        &profile(CHAT_RULE, "say [edited] {comment}"),
        rec.clone(),
        config(dir.path()),
    )
    .expect("restart");
    assert_eq!(report.resumed, 1);
    assert_eq!(report.expired.len(), 1);
    assert_eq!(report.expired[0].0.msg_id, 1);
    assert!(
        report.expired[0].1.contains("limit of 60 s"),
        "{}",
        report.expired[0].1
    );
    assert_eq!(report.dropped.len(), 1);
    assert_eq!(report.dropped[0].0.rule_id, "rose");
    assert!(report.dropped[0].1.contains("no longer exists"));
    let h = engine.handle();
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands(), vec!["say [edited] fresh"], "rendered again");
    // A window opening later still reads what the start found.
    let later = h.start_report();
    assert_eq!(later.expired.len() + later.dropped.len() + later.resumed, 3);
    h.flush_store().await.expect("flush");
    let statuses = h.store().expect("store").item_statuses().await.expect("st");
    let mut names: Vec<&str> = statuses.values().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["done", "dropped", "expired"]);
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_item_is_listed_for_a_later_view_and_can_be_rerun_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let p = profile(CHAT_RULE, "say {comment}");
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    h.submit_input(chat(1, "!say boom")).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    engine.shutdown(Shutdown::Drain).await;
    // As the store looks after a crash while the item ran.
    sql(
        dir.path(),
        "UPDATE items SET status = 'running' WHERE msg_id = 1",
    );

    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    let h = engine.handle();
    let report = h.start_report();
    assert_eq!(report.interrupted.len(), 1, "readable after the start");
    let id = report.interrupted[0].id;
    let json = serde_json::to_value(&*report).expect("json");
    assert_eq!(json["interrupted"][0]["id"], id);
    h.rerun(id).await.expect("rerun");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands(), vec!["say boom", "say boom"]);
    assert!(h.rerun(id).await.is_err(), "only once");
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seen_ids_and_streak_ledgers_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let p = profile(&format!("{CHAT_RULE}, {ROSE_RULE}"), "say {comment}");
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    h.submit_input(chat(10, "!say once")).await.expect("submit");
    // A streak: 5 settled by the client's timeout (its final was late), then it went on to 7.
    h.submit_input(rose(11, 5, None)).await.expect("submit");
    h.submit_input(rose(0, 5, Some((5, Settle::Timeout))))
        .await
        .expect("submit");
    h.submit_input(rose(12, 7, None)).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    h.flush_store().await.expect("flush");
    // The crash.
    drop(h);
    drop(engine);
    assert_eq!(rec.commands().len(), 1 + 5);

    let (engine, report) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    assert!(report.resume.seen_msg_ids.contains(&10));
    assert!(report.resume.seen_msg_ids.contains(&12));
    let h = engine.handle();
    let resume = h.take_resume();
    assert!(resume.mid_stream, "the last event was moments ago");
    assert!(
        h.take_resume().seen_msg_ids.is_empty(),
        "for the first connection only"
    );
    // The stream overlaps: the same messages again, then the streak's final with 10.
    h.submit_input(chat(10, "!say once")).await.expect("submit");
    h.submit_input(rose(11, 5, None)).await.expect("submit");
    h.submit_input(rose(12, 7, None)).await.expect("submit");
    h.submit_input(rose(13, 10, Some((10, Settle::Final))))
        .await
        .expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    let commands = rec.commands();
    assert_eq!(commands.iter().filter(|c| c.starts_with("say")).count(), 1);
    assert_eq!(
        commands.iter().filter(|c| c.starts_with("summon")).count(),
        10,
        "5 before the crash, the remaining 5 after"
    );
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_older_than_the_retention_are_deleted_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let p = profile(CHAT_RULE, "say {comment}");
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    for i in 1..=3 {
        h.submit_input(chat(i, "hello")).await.expect("submit");
    }
    assert!(h.drain_for(Duration::from_secs(10)).await);
    engine.shutdown(Shutdown::Drain).await;
    // Two of them are 40 and 31 days old.
    sql(
        dir.path(),
        "UPDATE events SET at_ms = at_ms - 40 * 86400000 WHERE msg_id = 1;
         UPDATE events SET at_ms = at_ms - 31 * 86400000 WHERE msg_id = 2;",
    );
    let (engine, report) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    assert_eq!(report.events_deleted, 2, "default: 30 days");
    engine.shutdown(Shutdown::Drain).await;
    let mut cfg = config(dir.path());
    cfg.store = StoreOptions {
        event_retention: Duration::from_secs(3600),
    };
    sql(
        dir.path(),
        "UPDATE events SET at_ms = at_ms - 2 * 3600000 WHERE msg_id = 3",
    );
    let (engine, report) = Engine::start(&p, rec, cfg).expect("restart");
    assert_eq!(report.events_deleted, 1, "a shorter setting");
    engine.shutdown(Shutdown::Drain).await;
}

/// The fault soak's finding: a streak whose messages were all handled but which had not
/// settled yet (its final lost, the client's timeout still pending) when the process was
/// killed. After the restart its messages are duplicates and its ledger waits for a message
/// that never comes, so its units were never run. Now the restart settles it, as the dead
/// run's client would have: a streak timeout after the start, or at a drain if sooner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streak_left_open_by_a_crash_is_settled_at_the_next_drain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let p = profile(ROSE_RULE, "say {comment}");
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    h.submit_input(rose(21, 3, None)).await.expect("submit");
    h.submit_input(rose(22, 7, None)).await.expect("submit");
    // Handled (a drain waits for the handler), then on disk.
    assert!(h.drain_for(Duration::from_secs(10)).await);
    h.flush_store().await.expect("flush");
    // The crash, before the client's timeout would have settled the 7.
    drop(h);
    drop(engine);
    assert!(rec.commands().is_empty());

    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    let h = engine.handle();
    // The stream overlaps: the same messages again are duplicates.
    h.submit_input(rose(22, 7, None)).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands().len(), 7, "{:?}", rec.commands());
    // And only once: a third start finds the streak settled.
    assert!(h.drain_for(Duration::from_secs(10)).await);
    h.flush_store().await.expect("flush");
    drop(h);
    drop(engine);
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    assert!(engine.handle().drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands().len(), 7);
    engine.shutdown(Shutdown::Drain).await;
}

/// No drain and no message: the streak timeout after the start settles it. Its final, coming
/// later still (under this run's own streak numbering), adds only the units beyond.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streak_left_open_settles_after_the_streak_timeout_and_a_late_final_adds_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let p = profile(ROSE_RULE, "say {comment}");
    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    let mut first = rose(31, 4, None);
    if let Payload::Gift(g) = &mut first.payload {
        // The dead run's client numbered it differently from the next run's.
        g.streak_generation = 3;
    }
    h.submit_input(first).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    h.flush_store().await.expect("flush");
    drop(h);
    drop(engine);

    let (engine, _) = Engine::start(&p, rec.clone(), config(dir.path())).expect("restart");
    let h = engine.handle();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while rec.commands().len() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rec.commands().len(), 4, "settled by the timeout");
    h.submit_input(rose(32, 6, Some((6, Settle::Final))))
        .await
        .expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands().len(), 6, "the final adds 2, not 6");
    engine.shutdown(Shutdown::Drain).await;
}
