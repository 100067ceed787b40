//! The SQLite store: crash recovery in-process (the engine is dropped without shutdown while
//! an item runs), re-run of an interrupted item, and session statistics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineUpdate, ExecError, Executor, Input, ItemStatus, Profile, Recorder,
    Shutdown,
};

/// Commands containing "hang" never finish: the process "dies" while one runs.
#[derive(Clone, Default)]
struct Hanging {
    ran: Arc<Mutex<Vec<String>>>,
}

impl Executor for Hanging {
    async fn command(&self, command: &str) -> Result<String, ExecError> {
        self.ran
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(command.to_owned());
        if command.contains("hang") {
            std::future::pending::<()>().await;
        }
        Ok(String::new())
    }

    async fn sound(&self, _file: &str, _volume: f32) -> Result<(), ExecError> {
        Ok(())
    }
}

fn profile() -> Profile {
    Profile::from_json(
        r#"{"schemaVersion": 1,
        "lanes": [{"name": "minecraft", "minGapMs": 0}],
        "actions": [{"id": "say", "steps": [{"type": "command", "template": "say {comment}"}]},
                    {"id": "creeper", "steps": [{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}]}],
        "rules": [{"id": "chat", "trigger": {"type": "chatCommand", "command": "!say"}, "actions": ["say"]},
                  {"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]}]}"#,
    )
    .expect("profile")
}

fn viewer(id: u64, name: &str) -> Viewer {
    Viewer {
        id,
        unique_id: name.into(),
        nickname: name.to_uppercase(),
        ..Viewer::default()
    }
}

fn chat(msg_id: u64, text: &str) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(1, "ann")),
        payload: Payload::Chat { text: text.into() },
    }
}

fn gift(msg_id: u64, user: Viewer, name: &str, coins: u32, count: u32) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(user),
        payload: Payload::Gift(GiftIn {
            gift_id: 1,
            name: name.into(),
            coins,
            streakable: true,
            group_id: msg_id,
            streak_generation: 0,
            repeat_count: count,
            delta: count,
            settled: Some((count, Settle::Final)),
        }),
    }
}

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig {
        data_dir: Some(dir.to_owned()),
        target: "test".into(),
        ..EngineConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_queued_items_resume_and_the_running_one_is_interrupted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hang = Hanging::default();
    let (engine, _) = Engine::start(&profile(), hang.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    let mut rx = h.subscribe();
    h.submit_input(chat(1, "!say hang")).await.expect("submit");
    for i in 2..=5 {
        h.submit_input(chat(i, &format!("!say item{i}")))
            .await
            .expect("submit");
    }
    // Wait until all five are queued and the first runs (its start is durable by then).
    let mut queued = 0;
    let mut running = None;
    while queued < 5 || running.is_none() {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Ok(EngineUpdate::Item(u))) if u.status == ItemStatus::Queued => queued += 1,
            Ok(Ok(EngineUpdate::Item(u))) if u.status == ItemStatus::Running => {
                running = Some(u.item)
            }
            Ok(Ok(_)) => continue,
            other => panic!("no running item: {other:?}"),
        }
    }
    let running = running.expect("running");
    assert_eq!(running.commands(), vec!["say hang"]);
    h.flush_store().await.expect("flush");
    // The crash: no shutdown, tasks just stop.
    drop(h);
    drop(engine);

    let rec = Recorder::new();
    let (engine, report) =
        Engine::start(&profile(), rec.clone(), config(dir.path())).expect("restart");
    assert_eq!(report.resumed, 4);
    assert_eq!(report.interrupted.len(), 1);
    assert_eq!(report.interrupted[0].id, running.id);
    let h = engine.handle();
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(
        rec.commands(),
        vec!["say item2", "say item3", "say item4", "say item5"],
        "waiting items resumed in order; the interrupted one was not re-run"
    );
    let store = h.store().expect("store");
    h.flush_store().await.expect("flush");
    let statuses = store.item_statuses().await.expect("statuses");
    assert_eq!(
        statuses.get(&running.id).map(String::as_str),
        Some("interrupted")
    );
    assert_eq!(
        statuses.values().filter(|s| s.as_str() == "done").count(),
        4
    );

    // The user re-runs it: a new item, linked to the old one, which stays interrupted.
    let new_id = h.rerun(running.id).await.expect("rerun");
    assert_ne!(new_id, running.id);
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands().last().map(String::as_str), Some("say hang"));
    let (item, status) = store.item(new_id).await.expect("new item");
    assert_eq!(item.rerun_of, Some(running.id));
    h.flush_store().await.expect("flush");
    let (_, status_after) = store.item(new_id).await.expect("new item");
    assert!(status == "running" || status == "done" || status == "queued");
    assert_eq!(status_after, "done");
    // A done item cannot be re-run by accident, nor can the interrupted one a second time.
    assert!(h.rerun(new_id).await.is_err());
    let again = h.rerun(running.id).await;
    assert!(
        matches!(&again, Err(e) if e.to_string().contains("already re-run")),
        "{again:?}"
    );
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_on_shutdown_keeps_waiting_items_for_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let (engine, _) = Engine::start(&profile(), rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    h.pause("minecraft").expect("pause");
    for i in 1..=3 {
        h.submit_input(chat(i, &format!("!say p{i}")))
            .await
            .expect("submit");
    }
    assert!(h.drain_for(Duration::from_secs(10)).await);
    engine.shutdown(Shutdown::Persist).await;
    assert!(rec.commands().is_empty());

    let (engine, report) =
        Engine::start(&profile(), rec.clone(), config(dir.path())).expect("restart");
    assert_eq!(report.resumed, 3);
    assert!(report.interrupted.is_empty());
    assert!(engine.handle().drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands(), vec!["say p1", "say p2", "say p3"]);
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_stats_come_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let (engine, _) = Engine::start(&profile(), rec.clone(), config(dir.path())).expect("engine");
    let h = engine.handle();
    h.submit_input(gift(1, viewer(1, "ann"), "Rose", 1, 5))
        .await
        .expect("submit");
    h.submit_input(gift(2, viewer(2, "bob"), "Lion", 29_999, 1))
        .await
        .expect("submit");
    h.submit_input(gift(3, viewer(1, "ann"), "Rose", 1, 2))
        .await
        .expect("submit");
    // A duplicate is neither counted nor acted on.
    h.submit_input(gift(3, viewer(1, "ann"), "Rose", 1, 2))
        .await
        .expect("submit");
    h.submit_input(chat(4, "hello")).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    let stats = h.stats().await.expect("stats");
    let totals: HashMap<String, u64> = stats.totals.iter().cloned().collect();
    assert_eq!(totals.get("gift"), Some(&3));
    assert_eq!(totals.get("chat"), Some(&1));
    assert_eq!(stats.gift_units, 8);
    assert_eq!(stats.diamonds, 7 + 29_999);
    assert_eq!(stats.top_gifters[0].username, "bob");
    assert_eq!(stats.top_gifters[1].username, "ann");
    assert_eq!(stats.top_gifters[1].units, 7);
    assert_eq!(stats.gifts_per_minute.iter().sum::<u64>(), 8);
    let items: HashMap<String, u64> = stats.items.into_iter().collect();
    assert_eq!(items.get("done"), Some(&7), "7 creepers");
    assert_eq!(rec.commands().len(), 7);
    engine.shutdown(Shutdown::Drain).await;
}

/// Two processes resuming one queue would run its paid items twice: the second open of a data
/// folder is refused while the first holds it, with a message that says what to do, and the
/// folder is free again once the first has closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_store_on_the_same_folder_is_refused_until_the_first_closes() {
    use livetrigger_engine::engine::store::{Store, StoreError};
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, _) = Store::open(dir.path(), "first").expect("first open");
    let second = Store::open(dir.path(), "second");
    match &second {
        Err(e @ StoreError::InUse { path }) => {
            assert_eq!(path, dir.path());
            let text = e.to_string();
            assert!(text.contains("already using the data folder"), "{text}");
            assert!(text.contains("close it first"), "{text}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a second store opened the same folder"),
    }
    // An engine on the same folder refuses to start for the same reason.
    let started = Engine::start(&profile(), Recorder::new(), config(dir.path()));
    let err = started
        .err()
        .expect("the engine must not start on a folder in use");
    assert!(err.to_string().contains("already using"), "{err}");
    first.close();
    let (again, _) = Store::open(dir.path(), "again").expect("free after close");
    again.close();
}

/// A crash between an event's record and its paid items' used to leave the event recorded
/// (so deduplicated after the restart) without the items (so never run). The handler now
/// writes both inside one group, and the store's writer commits a group whole: while it is
/// open nothing of it is on disk, however long the writer has been free to commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_and_its_paid_items_are_committed_together() {
    use livetrigger_engine::engine::item::PlannedStep;
    use livetrigger_engine::engine::{EventKind, QueueItem, Store};

    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = Store::open(dir.path(), "test").expect("store");
    let h = store.handle();
    let db = rusqlite::Connection::open(dir.path().join("livetrigger.sqlite3")).expect("db");
    let count = |table: &str| -> i64 {
        db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    };
    let rose = gift(77, viewer(1, "ann"), "Rose", 1, 1);
    let group = h.group();
    h.record_event(&rose, "ann sent Rose");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count("events"), 0, "not committed while the group is open");
    h.item_queued(Arc::new(QueueItem {
        id: 1,
        lane: "minecraft".into(),
        rule_id: "rose".into(),
        action_id: "creeper".into(),
        kind: EventKind::Gift,
        event: "ann sent Rose".into(),
        msg_id: 77,
        username: Some("ann".into()),
        paid: true,
        vars: Default::default(),
        steps: vec![PlannedStep::Command {
            command: "summon minecraft:creeper ~ ~ ~".into(),
        }],
        queued_ms: 0,
        rerun_of: None,
        keep_separate: false,
    }));
    drop(group);
    h.flush().await.expect("flush");
    assert_eq!((count("events"), count("items")), (1, 1), "both, at once");
    // Outside a group the writer commits at once, as before.
    h.record_event(&chat(78, "hi"), "ann: hi");
    h.flush().await.expect("flush");
    assert_eq!(count("events"), 2);
}
