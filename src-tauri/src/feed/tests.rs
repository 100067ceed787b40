use std::sync::Arc;
use std::time::Duration;

use livetrigger_engine::engine::input::{Payload, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineUpdate, EventKind, Input, ItemStatus, ItemUpdate, Profile,
    QueueItem, Recorder, Shutdown,
};
use livetrigger_engine::outputs::template::TemplateEvent;
use tiktok_live::event::{ChatEvent, GiftEvent, Meta, UserEvent};
use tiktok_live::message::{GiftDetails, GiftMessage, User};
use tiktok_live::streak::{SettleReason, Settled, StreakKey};

use super::log::LogQuery;
use super::queue::{FINISHED_PER_LANE, SHOWN_WAITING};
use super::*;

fn user(id: u64, handle: &str, nick: &str) -> User {
    User {
        id,
        unique_id: handle.into(),
        nickname: nick.into(),
        ..Default::default()
    }
}

fn meta(msg_id: u64) -> Meta {
    Meta {
        msg_id,
        is_history: false,
        create_time: 0,
    }
}

fn rose(msg_id: u64, count: u32, who: User) -> Event {
    let key = StreakKey {
        user_id: who.id,
        gift_id: 5655,
        group_id: msg_id,
        generation: 0,
    };
    Event::Gift(Box::new(GiftEvent {
        meta: meta(msg_id),
        gift: GiftMessage {
            gift_id: 5655,
            gift: Some(GiftDetails {
                id: 5655,
                name: "Rose".into(),
                diamond_count: 1,
                gift_type: 1,
                image_url: Some("http://127.0.0.1:9/rose.png".into()),
                ..Default::default()
            }),
            user: Some(who),
            to_user: None,
            repeat_count: count,
            repeat_end: 1,
            group_id: msg_id,
        },
        in_streak: true,
        streak: key,
        delta: count,
        settled: Some(Settled {
            key,
            count,
            reason: SettleReason::Final,
        }),
    }))
}

fn chat(msg_id: u64, who: User, text: &str) -> Event {
    Event::Chat(ChatEvent {
        meta: meta(msg_id),
        user: Some(who),
        content: text.into(),
    })
}

fn item(id: u64, msg_id: u64, lane: &str) -> Arc<QueueItem> {
    item_with_steps(
        id,
        msg_id,
        lane,
        vec![livetrigger_engine::engine::item::PlannedStep::Command {
            command: "summon minecraft:creeper".into(),
        }],
    )
}

/// A paid gift's queue item of rule `rose-creeper` (also used by the log's trace tests).
pub(super) fn item_with_steps(
    id: u64,
    msg_id: u64,
    lane: &str,
    steps: Vec<livetrigger_engine::engine::item::PlannedStep>,
) -> Arc<QueueItem> {
    Arc::new(QueueItem {
        id,
        lane: lane.into(),
        rule_id: "rose-creeper".into(),
        action_id: "creeper".into(),
        kind: EventKind::Gift,
        event: "Rose".into(),
        msg_id,
        username: Some("anna".into()),
        paid: true,
        vars: TemplateEvent::default(),
        steps,
        queued_ms: 1,
        rerun_of: None,
        keep_separate: false,
    })
}

fn upd(item: &Arc<QueueItem>, status: ItemStatus) -> EngineUpdate {
    EngineUpdate::Item(ItemUpdate {
        item: item.clone(),
        status,
        at_ms: 2,
    })
}

fn status() -> StatusSnapshot {
    StatusSnapshot::default()
}

#[test]
fn a_batch_carries_each_item_once_in_its_latest_state() {
    let mut core = FeedCore::new(100);
    assert!(core.take_batch(status(), 0).is_some(), "the first status");
    assert!(
        core.take_batch(status(), 0).is_none(),
        "nothing changed: no batch"
    );
    let a = item(1, 10, "minecraft");
    let b = item(2, 11, "minecraft");
    core.apply(upd(&a, ItemStatus::Queued));
    core.apply(upd(&b, ItemStatus::Queued));
    core.apply(upd(&a, ItemStatus::Running));
    core.apply(upd(&a, ItemStatus::Done));
    let batch = core.take_batch(status(), 0).expect("a batch");
    assert_eq!(batch.seq, 2);
    assert_eq!(batch.items.len(), 2, "coalesced per item");
    assert_eq!(batch.items[0].status, "done");
    assert_eq!(batch.items[1].status, "queued");
    let lanes = batch.lanes.expect("lanes changed");
    assert_eq!((lanes[0].waiting, lanes[0].running), (1, 0));
    assert_eq!(
        batch.status.map(|s| s.queue_depth),
        Some(1),
        "the status bar's depth is the items' count"
    );
}

#[test]
fn lane_counters_always_equal_the_items_sent() {
    // Replaying every batch into a mirror (what the window does) gives counters equal to the
    // items the mirror holds (the first SHOWN_WAITING waiting ones listed, the rest counted),
    // whatever the order of changes.
    let mut core = FeedCore::new(100);
    let mut mirror: std::collections::HashMap<u32, String> = Default::default();
    let mut rng = livetrigger_engine::outputs::template::Rng::with_seed(7);
    let items: Vec<_> = (1..=300).map(|i| item(i, i, "minecraft")).collect();
    let mut stage = vec![0u8; items.len()];
    for round in 0..2_000 {
        let i = rng.usize(..items.len());
        let next = match stage[i] {
            0 => ItemStatus::Queued,
            1 => ItemStatus::Running,
            2 => {
                if rng.bool() {
                    ItemStatus::Done
                } else {
                    ItemStatus::Failed {
                        reason: "no".into(),
                        may_have_run: false,
                    }
                }
            }
            _ => continue,
        };
        stage[i] += 1;
        core.apply(upd(&items[i], next));
        if round % 7 == 0 {
            if let Some(b) = core.take_batch(status(), 0) {
                for it in b.items {
                    mirror.insert(it.id, it.status);
                }
                for r in b.removed_items {
                    mirror.remove(&r);
                }
                if let Some(lanes) = b.lanes {
                    let waiting = mirror.values().filter(|s| *s == "queued").count();
                    let running = mirror.values().filter(|s| *s == "running").count();
                    // The first waiting items are listed, the rest counted.
                    let counted = lanes[0].waiting as usize;
                    assert_eq!(waiting, counted.min(SHOWN_WAITING));
                    assert_eq!(lanes[0].running as usize, running);
                }
            }
        }
    }
}

#[test]
fn a_late_update_never_brings_a_finished_item_back() {
    let mut core = FeedCore::new(100);
    let a = item(1, 10, "minecraft");
    core.apply(upd(&a, ItemStatus::Done));
    core.apply(upd(&a, ItemStatus::Queued));
    let b = core.take_batch(status(), 0).unwrap();
    assert_eq!(b.items[0].status, "done");
    assert_eq!(b.lanes.unwrap()[0].waiting, 0);
}

#[test]
fn the_ring_keeps_its_capacity_and_serves_filtered_pages() {
    let mut core = FeedCore::new(1_000);
    for i in 0..2_500u64 {
        let who = user(
            i % 10,
            &format!("viewer{}", i % 10),
            &format!("Viewer {}", i % 10),
        );
        if i % 5 == 0 {
            core.client_event(i as i64, &rose(i + 1, 3, who));
        } else {
            core.client_event(i as i64, &chat(i + 1, who, "hi"));
        }
    }
    let all = core.log.page(&LogQuery {
        offset: 0,
        limit: 10,
        ..Default::default()
    });
    assert_eq!(all.total, 1_000, "the ring holds its capacity");
    assert_eq!(all.rows[0].id, 1_501, "the oldest rows left");
    assert_eq!(all.last_id, 2_500);
    let gifts = core.log.page(&LogQuery {
        kinds: vec!["gift".into()],
        offset: 0,
        limit: 1_000,
        after_id: Some(2_400),
        ..Default::default()
    });
    assert_eq!(gifts.total, 200);
    assert!(gifts.rows.iter().all(|r| r.kind == "gift"));
    assert_eq!(gifts.newer, 20, "gift rows after id 2400");
    let g = gifts.rows[0].gift.as_ref().unwrap();
    assert_eq!((g.name.as_str(), g.count, g.coins), ("Rose", 3, 3));
    assert!(g.image_url.is_some());
    let anna = core.log.page(&LogQuery {
        search: "@VIEWER3".into(),
        offset: 0,
        limit: 5,
        ..Default::default()
    });
    assert_eq!(anna.total, 100);
    assert!(anna
        .rows
        .iter()
        .all(|r| r.handle.as_deref() == Some("viewer3")));
    let tail = core.log.page(&LogQuery {
        offset: 995,
        limit: 10,
        ..Default::default()
    });
    assert_eq!(tail.rows.len(), 5, "a page past the end is short");

    // Following the live end: the newest rows and where they start, in one request, the
    // same rows a page at that offset would hold.
    for (kinds, search) in [
        (vec![], ""),
        (vec!["gift".to_string()], ""),
        (vec![], "viewer3"),
    ] {
        let q = |offset, limit, tail| LogQuery {
            kinds: kinds.clone(),
            search: search.into(),
            offset,
            limit,
            after_id: Some(2_400),
            tail,
        };
        let end = core.log.page(&q(0, 30, Some(true)));
        let counted = core.log.page(&q(0, 0, None));
        assert_eq!(end.total, counted.total, "{kinds:?} {search}");
        assert_eq!(end.newer, counted.newer, "{kinds:?} {search}");
        assert_eq!(end.offset, counted.total - 30);
        let page = core.log.page(&q(end.offset, 30, None));
        assert_eq!(end.rows, page.rows, "{kinds:?} {search}");
        assert_eq!(end.rows.last().unwrap().id, {
            let last = core.log.page(&q(counted.total - 1, 1, None));
            last.rows[0].id
        });
        let all = core.log.page(&q(0, 5_000, Some(true)));
        assert_eq!(
            (all.offset, all.rows.len() as u32),
            (0, all.total),
            "a tail longer than the log"
        );
    }
}

#[test]
fn a_trace_follows_an_event_to_its_rcon_reply() {
    let mut core = FeedCore::new(100);
    core.log.set_engine_on(true);
    let anna = user(1, "anna", "Anna");
    core.client_event(1, &rose(77, 5, anna.clone()));
    let row = core.log.page(&LogQuery {
        offset: 0,
        limit: 1,
        ..Default::default()
    });
    let id = row.rows[0].id;
    assert_eq!(
        core.log.trace(id).unwrap().verdict,
        "Waiting for the trigger engine…"
    );
    core.apply(EngineUpdate::Event {
        kind: EventKind::Gift,
        msg_id: 77,
        user: Some("anna".into()),
        summary: "Rose".into(),
        at_ms: 1,
    });
    core.apply(EngineUpdate::Skipped {
        msg_id: 77,
        rule: Some("big-gift-fanfare".into()),
        reason: "cooldown: the rule can fire again in 900 ms".into(),
        at_ms: 1,
    });
    core.apply(EngineUpdate::Matched {
        rule: "rose-creeper".into(),
        msg_id: 77,
        runs: 1,
        at_ms: 1,
    });
    let it = item(9, 77, "minecraft");
    core.apply(upd(&it, ItemStatus::Queued));
    core.apply(upd(&it, ItemStatus::Running));
    core.apply(EngineUpdate::Step {
        item: 9,
        step: 0,
        text: "Summoned new Creeper".into(),
        at_ms: 1,
    });
    core.apply(upd(&it, ItemStatus::Done));
    let t = core.log.trace(id).unwrap();
    assert_eq!(t.matches[0].rule, "rose-creeper");
    assert_eq!(t.skips[0].rule.as_deref(), Some("big-gift-fanfare"));
    assert!(t.skips[0].reason.starts_with("cooldown"));
    assert_eq!(t.items.len(), 1);
    assert_eq!(t.items[0].status, "done");
    assert_eq!(t.items[0].outputs, vec!["Summoned new Creeper".to_string()]);
    assert!(t.verdict.starts_with("1 rule(s) fired"), "{}", t.verdict);
    assert_eq!(t.row.fired, 1);

    // The same message again: the engine calls it a duplicate, the trace says so.
    core.client_event(2, &rose(77, 5, anna.clone()));
    core.apply(EngineUpdate::Skipped {
        msg_id: 77,
        rule: None,
        reason: "duplicate".into(),
        at_ms: 2,
    });
    let dup = core.log.trace(id + 1).unwrap();
    assert!(dup.verdict.contains("duplicate"), "{}", dup.verdict);

    // An event no rule listens to.
    core.client_event(
        3,
        &Event::Share(UserEvent {
            meta: meta(80),
            user: Some(anna),
        }),
    );
    core.apply(EngineUpdate::Event {
        kind: EventKind::Share,
        msg_id: 80,
        user: None,
        summary: String::new(),
        at_ms: 3,
    });
    assert_eq!(
        core.log.trace(id + 2).unwrap().verdict,
        "No rule matched this share event."
    );
}

#[test]
fn exports_keep_hostile_names_as_data() {
    let mut core = FeedCore::new(10);
    core.client_event(
        5,
        &chat(1, user(1, "x", "=HYPERLINK(\"http://evil\")"), "a,b\n\"c\""),
    );
    let csv = export_csv(core.log.rows());
    let line = csv.lines().nth(1).unwrap();
    assert!(
        line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{line}"
    );
    assert!(
        line.ends_with(",\"a,b") && csv.contains("\"a,b\n\"\"c\"\"\""),
        "a comma, a quote and a newline stay inside one quoted field: {csv}"
    );
    let jsonl = export_jsonl(core.log.rows());
    let v: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(v["comment"], "a,b\n\"c\"");
}

#[tokio::test(start_paused = true)]
async fn batches_are_paced_to_batches_per_second() {
    let feed = Feed::new(100_000);
    let batches = Arc::new(std::sync::Mutex::new(Vec::<FeedBatch>::new()));
    let sink = batches.clone();
    let task = tokio::spawn(feed.clone().run_batches(status, move |b| {
        sink.lock().unwrap().push(b);
    }));
    // 2,000 events a second for 2 seconds (tokio's timers tick in whole milliseconds).
    for i in 0..2_000u64 {
        feed.client_event(&chat(2 * i + 1, user(i, "v", "V"), "hi"));
        feed.client_event(&chat(2 * i + 2, user(i, "v", "V"), "hi"));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    task.abort();
    let batches = batches.lock().unwrap();
    let most = 2 * BATCHES_PER_SECOND as usize;
    assert!(
        batches.len() <= most + 2,
        "{} batches in 2 s",
        batches.len()
    );
    assert!(
        batches.len() >= most * 3 / 4,
        "it keeps flowing: {}",
        batches.len()
    );
    let rows: u32 = batches.iter().map(|b| b.log.added).sum();
    assert_eq!(rows, 4_000, "every row is announced");
    for w in batches.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "sequence numbers have no gaps");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lt-feed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lets the feed's task run until `done` holds (the store answers on its own thread, in real
/// time, while the test's clock is paused).
async fn settle(feed: &Feed, done: impl Fn(&FeedCore) -> bool) {
    for _ in 0..3_000 {
        if done(&feed.lock()) {
            return;
        }
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the feed did not settle");
}

fn follow(i: u64) -> Input {
    Input {
        msg_id: 1_000 + i,
        is_history: false,
        user: Some(Viewer {
            id: i + 1,
            unique_id: format!("viewer{i}"),
            nickname: format!("Viewer {i}"),
            ..Viewer::default()
        }),
        payload: Payload::Follow,
    }
}

// Real time, not a paused clock: a paused clock jumps to the lane's expiry timer as soon as
// the runtime idles, and every waiting item would expire (the engine's age limits, issue 8).
#[tokio::test]
async fn a_lagging_receiver_resyncs_to_the_engines_queue() {
    let dir = temp_dir("lag");
    let profile = Profile::from_json(
        r#"{"schemaVersion": 1,
        "lanes": [{"name": "minecraft", "minGapMs": 0, "maxDepth": 100000,
            "maxAgeMs": 86400000, "unpaidMaxAgeMs": 86400000}],
        "actions": [{"id": "hi", "steps": [{"type": "command", "template": "say hi {user}"}]}],
        "rules": [{"id": "follow", "trigger": {"type": "follow"}, "actions": ["hi"]}]}"#,
    )
    .unwrap();
    let (engine, _) = Engine::start(
        &profile,
        Recorder::new(),
        EngineConfig {
            data_dir: Some(dir.clone()),
            ..EngineConfig::default()
        },
    )
    .unwrap();
    let handle = engine.handle();
    handle.pause("minecraft").unwrap();
    let feed = Feed::new(1_000);
    // Subscribed, but not read while the engine produces far more than the channel holds.
    let rx = handle.subscribe();
    for i in 0..7_000 {
        handle.submit_input(follow(i)).await.unwrap();
    }
    handle.drain().await.unwrap();
    handle.flush_store().await.unwrap();
    let truth = handle.lanes();
    assert_eq!(truth[0].waiting, 7_000, "a paused lane keeps them all");

    let follower = tokio::spawn(feed.clone().follow_engine(handle.clone(), rx));
    settle(&feed, |core| {
        core.missed() > 0 && core.queue.depth() == 7_000
    })
    .await;
    feed.refresh_lanes();
    {
        let mut core = feed.lock();
        assert!(core.missed() > 0, "the receiver lagged");
        let b = core.take_batch(status(), 0).unwrap();
        assert!(b.reset, "the window is told to replace its queue");
        let lanes = b.lanes.unwrap();
        assert_eq!(lanes[0].waiting, 7_000, "every waiting item is known again");
        // The window is sent the first waiting items in queue order; the rest are counted.
        assert_eq!(b.items.len(), SHOWN_WAITING);
        assert!(b.items.windows(2).all(|w| w[0].id < w[1].id));
        assert!(lanes[0].paused);
    }

    // Now they run; none may stay "queued" in the view.
    handle.resume("minecraft").unwrap();
    handle.drain().await.unwrap();
    settle(&feed, |core| core.queue.depth() == 0).await;
    feed.refresh_lanes();
    {
        let core = feed.lock();
        let lanes = core.queue.lanes();
        let truth = handle.lanes();
        assert_eq!(lanes[0].waiting, 0);
        assert_eq!(lanes[0].running, 0);
        assert_eq!(u64::from(lanes[0].done), truth[0].done);
        assert_eq!(core.queue.depth(), 0);
    }
    follower.abort();
    engine.shutdown(Shutdown::Persist).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_dry_run_item_is_done_and_says_so_without_failing() {
    let mut core = FeedCore::new(100);
    let dry = item(1, 10, "minecraft");
    let real = item(2, 11, "minecraft");
    for it in [&dry, &real] {
        core.apply(upd(it, ItemStatus::Queued));
        core.apply(upd(it, ItemStatus::Running));
    }
    core.apply(EngineUpdate::Step {
        item: 1,
        step: 0,
        text: crate::setup::outputs::DRY_RUN_REPLY.into(),
        at_ms: 1,
    });
    core.apply(EngineUpdate::Step {
        item: 2,
        step: 0,
        text: "Summoned new Creeper".into(),
        at_ms: 1,
    });
    core.apply(upd(&dry, ItemStatus::Done));
    core.apply(upd(&real, ItemStatus::Done));
    let batch = core.take_batch(status(), 0).expect("a batch");
    let view = |id: u32| batch.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(view(1).status, "done");
    assert!(view(1).dry_run);
    assert_eq!(
        view(1).detail.as_deref(),
        Some(crate::setup::outputs::DRY_RUN_REPLY)
    );
    assert!(!view(2).dry_run && view(2).detail.is_none());
}

#[test]
fn the_status_carries_the_rooms_viewers_likes_and_title() {
    use tiktok_live::event::{LikeEvent, ViewerCountEvent};
    let like = |msg_id: u64, total: u64, history: bool| {
        Event::Like(LikeEvent {
            meta: Meta {
                is_history: history,
                ..meta(msg_id)
            },
            user: Some(user(1, "anna", "Anna")),
            count: 5,
            total,
        })
    };
    let viewers = |msg_id: u64, total: u64| {
        Event::ViewerCount(ViewerCountEvent {
            meta: meta(msg_id),
            total,
            total_user: total * 2,
        })
    };
    let mut core = FeedCore::new(100);
    core.client_event(
        0,
        &Event::Connected {
            room_id: 7,
            reconnect: false,
        },
    );
    core.set_room_title(Some("Building a castle §4".into()));
    let first = core.take_batch(status(), 0).expect("a batch");
    let room = first.status.expect("the status").room;
    assert_eq!(room.title.as_deref(), Some("Building a castle §4"));
    assert_eq!((room.viewers, room.likes), (None, None));

    // A burst of events: the next batch has the latest figures, once.
    core.client_event(1, &viewers(1, 40));
    core.client_event(2, &like(2, 1_200, false));
    core.client_event(3, &viewers(3, 42));
    core.client_event(4, &like(4, 1_250, false));
    // A late message with a lower total, and a history replay, change nothing.
    core.client_event(5, &like(5, 1_210, false));
    core.client_event(6, &like(6, 3, true));
    let batch = core.take_batch(status(), 0).expect("a batch");
    let room = batch.status.expect("the room changed").room;
    assert_eq!(room.viewers, Some(42));
    assert_eq!(room.likes, Some(1_250));
    assert_eq!(
        core.snapshot(status()).status.room,
        room,
        "a fresh window sees them too"
    );

    // A reconnect keeps the figures; a new stream starts over.
    core.client_event(
        7,
        &Event::Connected {
            room_id: 7,
            reconnect: true,
        },
    );
    assert_eq!(core.snapshot(status()).status.room.likes, Some(1_250));
    core.client_event(
        8,
        &Event::Connected {
            room_id: 8,
            reconnect: false,
        },
    );
    assert_eq!(core.snapshot(status()).status.room, RoomStats::default());
}

/// Flow control: once the window acknowledges batches, the next one waits for the ack of the
/// previous (changes coalesce meanwhile), and a window that stops answering still gets one
/// batch per second, with nothing lost.
#[tokio::test(start_paused = true)]
async fn a_busy_window_gets_fewer_larger_batches_and_a_silent_one_is_not_stalled() {
    let feed = Feed::new(100_000);
    let batches = Arc::new(std::sync::Mutex::new(Vec::<FeedBatch>::new()));
    let sink = batches.clone();
    let task = tokio::spawn(feed.clone().run_batches(status, move |b| {
        sink.lock().unwrap().push(b);
    }));
    let mut next = 1u64;
    let mut push = |feed: &Feed, n: u64| {
        for _ in 0..n {
            feed.client_event(&chat(next, user(next, "v", "V"), "hi"));
            next += 1;
        }
    };
    // The window acknowledges once: from then on it paces the feed.
    push(&feed, 10);
    tokio::time::sleep(Duration::from_millis(60)).await;
    let first = batches
        .lock()
        .unwrap()
        .last()
        .map(|b| b.seq)
        .expect("a first batch");
    feed.ack(first);
    // A window that takes 300 ms to paint each batch, under 1,000 events a second for 3 s.
    let mut acked = first;
    for ms in 0..3_000u64 {
        push(&feed, 1);
        if ms % 300 == 299 {
            if let Some(seq) = batches.lock().unwrap().last().map(|b| b.seq) {
                if seq != acked {
                    acked = seq;
                    feed.ack(seq);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let busy = batches.lock().unwrap().len();
    assert!(
        busy <= 1 + 12,
        "a slow window is not flooded: {busy} batches in 3 s"
    );
    // Then it stops answering: one batch a second, not none.
    for _ in 0..3_000u64 {
        push(&feed, 1);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    task.abort();
    let batches = batches.lock().unwrap();
    let silent = batches.len() - busy;
    assert!(
        (2..=5).contains(&silent),
        "{silent} batches in 3 s without acks"
    );
    let rows: u32 = batches.iter().map(|b| b.log.added).sum();
    assert_eq!(u64::from(rows), next - 1, "every row is announced");
    for w in batches.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "sequence numbers have no gaps");
    }
}

/// What a window holds after applying a snapshot and the batches after it (as feed.ts does).
#[derive(Default)]
struct WindowModel {
    items: std::collections::BTreeMap<u32, String>,
    lanes: Vec<LaneView>,
}

impl WindowModel {
    fn apply(&mut self, b: &FeedBatch) {
        if b.reset {
            self.items.clear();
        }
        for i in &b.items {
            self.items.insert(i.id, i.status.clone());
        }
        for id in &b.removed_items {
            self.items.remove(id);
        }
        if let Some(l) = &b.lanes {
            self.lanes = l.clone();
        }
    }

    fn waiting(&self) -> usize {
        self.items.values().filter(|s| *s == "queued").count()
    }
}

#[test]
fn a_flooded_lane_sends_only_its_first_waiting_items_and_the_rest_follow_as_they_move_up() {
    let mut core = FeedCore::new(100);
    let mut window = WindowModel::default();
    let items: Vec<_> = (1..=1_000u64).map(|i| item(i, i, "minecraft")).collect();
    for it in &items {
        core.apply(upd(it, ItemStatus::Queued));
    }
    let b = core.take_batch(status(), 0).unwrap();
    window.apply(&b);
    assert_eq!(
        b.items.len(),
        SHOWN_WAITING,
        "only the first waiting items travel"
    );
    assert_eq!(b.items[0].id, 1);
    assert_eq!(b.items.last().unwrap().id, SHOWN_WAITING as u32);
    assert_eq!(window.lanes[0].waiting, 1_000, "all of them are counted");

    // The first 50 run and finish: they stay shown (as finished) and 50 more move into view.
    for it in &items[..50] {
        core.apply(upd(it, ItemStatus::Running));
        core.apply(upd(it, ItemStatus::Done));
    }
    let b = core.take_batch(status(), 0).unwrap();
    window.apply(&b);
    assert_eq!(b.items.len(), 100, "50 finished + 50 moved into view");
    assert!(b.removed_items.is_empty());
    assert_eq!(window.waiting(), SHOWN_WAITING);
    assert_eq!(window.lanes[0].waiting, 950);
    assert_eq!(
        window.items.keys().copied().collect::<Vec<_>>(),
        core.queue.items().iter().map(|i| i.id).collect::<Vec<_>>()
    );

    // Nothing moves: no item travels again.
    core.apply(upd(&items[999], ItemStatus::Queued));
    let b = core.take_batch(status(), 0);
    assert!(
        b.as_ref().is_none_or(|b| b.items.is_empty()),
        "an unchanged waiting item out of view is not sent"
    );
}

/// A window following snapshot + batches always holds exactly what the book shows, and its
/// lane counters agree with it, whatever order items queue, run, finish or are dropped in.
#[test]
fn a_window_following_the_batches_always_holds_what_is_shown() {
    let mut core = FeedCore::new(100);
    let mut seed: u64 = 0x5eed;
    let mut rand = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let lanes = ["minecraft", "sound"];
    let mut next_id = 1u64;
    let mut live: Vec<(Arc<QueueItem>, u8)> = Vec::new(); // 0 queued, 1 running
    let mut window = WindowModel::default();
    let mut synced = false;
    for round in 0..400 {
        for _ in 0..rand(60) {
            match rand(10) {
                0..=4 => {
                    let it = item(next_id, next_id, lanes[rand(2) as usize]);
                    next_id += 1;
                    core.apply(upd(&it, ItemStatus::Queued));
                    live.push((it, 0));
                }
                5..=6 if !live.is_empty() => {
                    // The oldest waiting item of a lane starts.
                    let lane = lanes[rand(2) as usize];
                    if let Some(slot) = live.iter_mut().find(|(i, s)| i.lane == lane && *s == 0) {
                        slot.1 = 1;
                        core.apply(upd(&slot.0, ItemStatus::Running));
                    }
                }
                7..=8 => {
                    if let Some(pos) = live.iter().position(|(_, s)| *s == 1) {
                        let (it, _) = live.remove(pos);
                        core.apply(upd(&it, ItemStatus::Done));
                    }
                }
                _ if !live.is_empty() => {
                    // Dropped from anywhere in the queue (a clear, an age limit).
                    let pos = rand(live.len() as u64) as usize;
                    let (it, _) = live.remove(pos);
                    core.apply(upd(
                        &it,
                        ItemStatus::Dropped {
                            reason: "cleared".into(),
                        },
                    ));
                }
                _ => {}
            }
        }
        // Now and then the window reloads and starts from a snapshot between batches.
        if !synced || rand(25) == 0 {
            let s = core.snapshot(status());
            window = WindowModel::default();
            for i in &s.items {
                window.items.insert(i.id, i.status.clone());
            }
            window.lanes = s.lanes;
            synced = true;
            continue;
        }
        if let Some(b) = core.take_batch(status(), 0) {
            window.apply(&b);
        }
        let shown: Vec<(u32, String)> = core
            .queue
            .items()
            .into_iter()
            .map(|i| (i.id, i.status))
            .collect();
        assert_eq!(
            window.items.clone().into_iter().collect::<Vec<_>>(),
            shown,
            "round {round}: the window holds what is shown, in its latest state"
        );
        for lane in &window.lanes {
            let held = |status: &str| {
                core.queue
                    .items()
                    .iter()
                    .filter(|i| i.lane == lane.name && i.status == status)
                    .count()
            };
            let truth = live
                .iter()
                .filter(|(i, s)| i.lane == lane.name && *s == 0)
                .count();
            assert_eq!(
                lane.waiting as usize, truth,
                "round {round}: waiting counter"
            );
            assert_eq!(held("queued"), truth.min(SHOWN_WAITING), "round {round}");
            assert_eq!(
                lane.running as usize,
                held("running"),
                "round {round}: running counter"
            );
        }
    }
    assert!(next_id > 2_000, "the queue grew past what is shown");
}

#[test]
fn an_item_seen_in_a_snapshot_and_evicted_before_the_next_batch_is_removed() {
    let mut core = FeedCore::new(100);
    core.take_batch(status(), 0);
    let x = item(1, 1, "minecraft");
    core.apply(upd(&x, ItemStatus::Queued));
    let snap = core.snapshot(status());
    assert_eq!(snap.items.len(), 1, "the window starts holding it");
    core.apply(upd(&x, ItemStatus::Done));
    for id in 2..=(FINISHED_PER_LANE as u64 + 1) {
        let it = item(id, id, "minecraft");
        core.apply(upd(&it, ItemStatus::Queued));
        core.apply(upd(&it, ItemStatus::Done));
    }
    let b = core.take_batch(status(), 0).unwrap();
    assert!(b.removed_items.contains(&1), "{:?}", b.removed_items);
    assert!(b.items.iter().all(|i| i.id != 1));
}

#[tokio::test(start_paused = true)]
async fn queue_progress_alone_is_sent_four_times_a_second_and_new_rows_at_once() {
    let feed = Feed::new(1_000);
    let sent = Arc::new(std::sync::Mutex::new(Vec::<(
        tokio::time::Instant,
        FeedBatch,
    )>::new()));
    let sink = sent.clone();
    let task = tokio::spawn(feed.clone().run_batches(status, move |b| {
        sink.lock().unwrap().push((tokio::time::Instant::now(), b));
    }));
    // A lane drains its backlog: an item finishes every 10 ms for 2 s, no new events.
    let items: Vec<_> = (1..=200u64).map(|i| item(i, i, "minecraft")).collect();
    for it in &items {
        feed.lock().apply(upd(it, ItemStatus::Queued));
    }
    feed.poke();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = sent.lock().unwrap().len();
    for it in &items {
        feed.lock().apply(upd(it, ItemStatus::Done));
        feed.poke();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drain: Vec<_> = sent.lock().unwrap()[start..].to_vec();
    assert!(
        (6..=10).contains(&drain.len()),
        "{} batches for 2 s of queue progress",
        drain.len()
    );
    for w in drain.windows(2) {
        assert!(w[1].0 - w[0].0 >= Duration::from_millis(250));
    }
    // A new event does not wait for the quiet gap: it goes out after the usual 50 ms.
    let before = sent.lock().unwrap().len();
    feed.lock().apply(upd(&items[0], ItemStatus::Done));
    feed.poke();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let t0 = tokio::time::Instant::now();
    feed.client_event(&chat(1, user(1, "v", "V"), "hi"));
    tokio::time::sleep(Duration::from_millis(60)).await;
    let after = sent.lock().unwrap()[before..].to_vec();
    let row_batch = after
        .iter()
        .find(|(_, b)| b.log.added > 0)
        .expect("the row was sent");
    assert!(
        row_batch.0 - t0 <= Duration::from_millis(55),
        "{:?}",
        row_batch.0 - t0
    );
    task.abort();
}

/// The window pulls its batches (`feed_next`): a slow window still sees every batch in order
/// and every row announced, and it paces the feed (asking for the next batch acknowledges the
/// previous one).
#[tokio::test(start_paused = true)]
async fn a_pulling_window_gets_every_batch_in_order_at_its_own_pace() {
    let feed = Feed::new(100_000);
    let producer = feed.clone();
    let task = tokio::spawn(
        feed.clone()
            .run_batches(status, move |b| producer.publish(b)),
    );
    let window = {
        let feed = feed.clone();
        // The window starts from a snapshot taken before the first event.
        let mut after = feed.lock().seq();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let Some(b) = feed.next_batch(after, LONG_POLL).await else {
                    break;
                };
                assert_eq!(b.seq, after + 1, "no gap for a window that keeps asking");
                after = b.seq;
                got.push(b);
                // Painting takes this window 300 ms.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            got
        })
    };
    for i in 1..=3_000u64 {
        feed.client_event(&chat(i, user(i, "v", "V"), "hi"));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Nothing more happens: the window's last request ends empty after the long poll.
    tokio::time::sleep(LONG_POLL + Duration::from_secs(2)).await;
    let got = window.await.unwrap();
    task.abort();
    assert!(
        got.len() <= 3_000 / 300 + 3,
        "a slow window is not flooded: {} batches",
        got.len()
    );
    let rows: u32 = got.iter().map(|b| b.log.added).sum();
    assert_eq!(rows, 3_000, "every row is announced");
}

#[tokio::test(start_paused = true)]
async fn a_request_waits_for_the_next_batch_and_one_far_behind_sees_a_gap() {
    let feed = Feed::new(1_000);
    let waiting = {
        let feed = feed.clone();
        tokio::spawn(async move { feed.next_batch(0, LONG_POLL).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        !waiting.is_finished(),
        "nothing made yet: the request waits"
    );
    let made = |feed: &Feed, n: u64| {
        feed.client_event(&chat(n, user(n, "v", "V"), "hi"));
        feed.lock().take_batch(status(), 0).expect("a batch")
    };
    feed.publish(made(&feed, 1));
    let b = waiting.await.unwrap().expect("woken by the batch");
    assert_eq!(b.seq, 1);
    // Asked again for the same batch (a window reloaded mid-request): it is still there.
    assert_eq!(
        feed.next_batch(0, Duration::ZERO).await.map(|b| b.seq),
        Some(1)
    );
    // A window 30 batches behind gets the oldest one kept: the gap makes it resync.
    for n in 2..=31 {
        feed.publish(made(&feed, n));
    }
    let behind = feed.next_batch(1, Duration::ZERO).await.unwrap();
    assert_eq!(behind.seq, 31 - BATCHES_KEPT as u32 + 1);
    assert_ne!(behind.seq, 2, "batch 2 is gone: the window sees the gap");
    // Asking for the next one says the window has these: they are no longer kept.
    let _ = feed.next_batch(31, Duration::ZERO).await;
    assert!(feed.outbox.lock().unwrap().is_empty());
    // Up to date and nothing new: an empty answer once the long poll is over, not before.
    let idle = {
        let feed = feed.clone();
        tokio::spawn(async move { feed.next_batch(31, LONG_POLL).await })
    };
    tokio::time::sleep(LONG_POLL - Duration::from_secs(1)).await;
    assert!(!idle.is_finished());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(idle.await.unwrap(), None);
}

/// A flood's backlog grows the queue book's item table; once the lanes drain it, the room
/// goes back.
#[test]
fn the_queue_book_gives_back_the_room_a_backlog_took() {
    let mut core = FeedCore::new(1_000);
    let items: Vec<_> = (1..=20_000u64).map(|i| item(i, i, "minecraft")).collect();
    for it in &items {
        core.apply(upd(it, ItemStatus::Queued));
    }
    let _ = core.take_batch(status(), 0);
    let full = core.queue.item_room();
    assert!(full >= 20_000);
    for it in &items {
        core.apply(upd(it, ItemStatus::Done));
    }
    let _ = core.take_batch(status(), 1);
    assert!(
        core.queue.item_room() < full / 4,
        "{} of {full} kept",
        core.queue.item_room()
    );
    // What is still shown is still there.
    assert_eq!(
        core.snapshot(status()).items.len(),
        FINISHED_PER_LANE.min(20_000)
    );
}
