//! The handler registry with real client events: conversion from `tiktok_live` events, the
//! engine's own duplicate guard, invalid events and unrenderable actions that are reported
//! while the stream goes on, custom validators, and profile reload.

use std::time::Duration;

use livetrigger_engine::engine::input::{Input, Payload};
use livetrigger_engine::engine::registry::Invalid;
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineHandle, EngineUpdate, EventKind, Profile, Recorder, Registry,
    Shutdown,
};
use tiktok_live::event::{Event, GiftEvent, Meta, UserEvent};
use tiktok_live::message::{GiftDetails, GiftMessage, User};
use tiktok_live::streak::{SettleReason, Settled, StreakKey};

fn user(id: u64, nick: &str) -> User {
    User {
        id,
        unique_id: format!("u{id}"),
        nickname: nick.into(),
        ..User::default()
    }
}

fn meta(msg_id: u64) -> Meta {
    Meta {
        msg_id,
        is_history: false,
        create_time: 0,
    }
}

fn gift_event(
    msg_id: u64,
    from: u64,
    repeat: u32,
    end: bool,
    settled: Option<(u32, SettleReason)>,
) -> Event {
    let gift = GiftMessage {
        gift_id: 5655,
        gift: Some(GiftDetails {
            id: 5655,
            name: "Rose".into(),
            diamond_count: 1,
            gift_type: 1,
            combo: true,
            image_url: None,
        }),
        user: Some(user(from, "Gifter")),
        to_user: None,
        repeat_count: repeat,
        repeat_end: i32::from(end),
        group_id: 77,
    };
    let key = StreakKey::of(&gift);
    Event::Gift(Box::new(GiftEvent {
        meta: meta(msg_id),
        in_streak: true,
        streak: key,
        gift,
        delta: repeat,
        settled: settled.map(|(count, reason)| Settled { key, count, reason }),
    }))
}

fn start(json: &str, registry: Option<Registry>) -> (Engine, EngineHandle, Recorder) {
    let rec = Recorder::new();
    let (engine, _) = Engine::start(
        &Profile::from_json(json).expect("profile"),
        rec.clone(),
        EngineConfig {
            registry,
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();
    (engine, h, rec)
}

const ROSE: &str = r#"{"schemaVersion": 1,
  "actions": [{"id": "c", "steps": [{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}]},
              {"id": "bad", "steps": [{"type": "command", "template": "say {count}"}]},
              {"id": "hi", "steps": [{"type": "command", "template": "say hi {user}"}]}],
  "rules": [{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["c"]},
            {"id": "f", "trigger": {"type": "follow"}, "actions": ["bad"]},
            {"id": "j", "trigger": {"type": "join"}, "actions": ["hi"]}]}"#;

#[tokio::test(start_paused = true)]
async fn client_events_count_once_even_when_submitted_twice() {
    let (engine, h, rec) = start(ROSE, None);
    let events = [
        gift_event(1, 5, 1, false, None),
        gift_event(2, 5, 3, false, None),
        gift_event(3, 5, 3, true, Some((3, SettleReason::Final))),
        // The same final again (a replay that slipped past the client).
        gift_event(3, 5, 3, true, Some((3, SettleReason::Final))),
        // A stale timeout settle for the same streak, without a msg_id.
        gift_event(0, 5, 3, true, Some((3, SettleReason::Timeout))),
        Event::StreamPaused,
        Event::Disconnected {
            reason: "x".into(),
            will_reconnect: true,
        },
    ];
    for e in &events {
        h.submit(e).await.expect("submit");
    }
    h.drain().await.expect("drain");
    assert_eq!(rec.commands().len(), 3);
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(start_paused = true)]
async fn bad_events_and_unrenderable_actions_are_reported_and_the_stream_goes_on() {
    let mut registry = Registry::default();
    // An app-specific rule: ignore a banned viewer.
    registry.on(EventKind::Join, |input: &mut Input| {
        if input.user.as_ref().is_some_and(|u| u.id == 666) {
            return Err(Invalid("banned viewer".into()));
        }
        Ok(())
    });
    let (engine, h, rec) = start(ROSE, Some(registry));
    let mut rx = h.subscribe();
    // An implausible gift count: refused.
    h.submit(&gift_event(
        10,
        5,
        5_000_000,
        true,
        Some((5_000_000, SettleReason::Final)),
    ))
    .await
    .expect("submit");
    // A follow whose action needs {count}, which a follow has not: not queued.
    h.submit(&Event::Follow(UserEvent {
        meta: meta(11),
        user: Some(user(6, "F")),
    }))
    .await
    .expect("submit");
    h.submit(&Event::Join(UserEvent {
        meta: meta(12),
        user: Some(user(666, "Banned")),
    }))
    .await
    .expect("submit");
    // And the stream goes on.
    h.submit(&Event::Join(UserEvent {
        meta: meta(13),
        user: Some(user(7, "Fine \"name\"\n")),
    }))
    .await
    .expect("submit");
    h.drain().await.expect("drain");
    assert_eq!(rec.commands(), vec!["say hi Fine \"name\" "]);
    let mut warnings = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let EngineUpdate::Warning { message, .. } = u {
            warnings.push(message);
        }
    }
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings[0].contains("not plausible"), "{warnings:?}");
    assert!(warnings[1].contains("{count}"), "{warnings:?}");
    assert!(warnings[2].contains("banned viewer"), "{warnings:?}");
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(start_paused = true)]
async fn reload_applies_new_rules_and_lanes() {
    let (engine, h, rec) = start(ROSE, None);
    let join = |id: u64| Input {
        msg_id: id,
        is_history: false,
        user: None,
        payload: Payload::Join,
    };
    h.submit_input(join(1)).await.expect("submit");
    h.drain().await.expect("drain");
    let new = Profile::from_json(
        r#"{"schemaVersion": 1,
        "lanes": [{"name": "chat", "minGapMs": 1000}],
        "actions": [{"id": "w", "lane": "chat", "steps": [{"type": "command", "template": "say welcome"}]}],
        "rules": [{"id": "j", "trigger": {"type": "join"}, "actions": ["w"]}]}"#,
    )
    .expect("profile");
    h.reload(new).await.expect("reload");
    h.submit_input(join(2)).await.expect("submit");
    h.submit_input(join(3)).await.expect("submit");
    h.drain().await.expect("drain");
    let log = rec.log();
    let cmds: Vec<String> = rec.commands();
    assert_eq!(cmds, vec!["say hi ", "say welcome", "say welcome"]);
    assert_eq!(
        log[2].0 - log[1].0,
        Duration::from_millis(1000),
        "the new lane's gap"
    );
    assert!(h.lanes().iter().any(|l| l.name == "chat"));
    engine.shutdown(Shutdown::Drain).await;
}

/// The seed rejects a gift it cannot credit to anyone; so does the engine: a warning, the
/// stats count it as invalid, and nothing is queued.
#[tokio::test]
async fn a_gift_with_no_usable_viewer_is_rejected_and_counted_invalid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Recorder::new();
    let (engine, report) = Engine::start(
        &Profile::from_json(ROSE).expect("profile"),
        rec.clone(),
        EngineConfig {
            data_dir: Some(dir.path().to_path_buf()),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let h = engine.handle();
    let mut rx = h.subscribe();
    let mut nobody = gift_event(20, 5, 2, true, Some((2, SettleReason::Final)));
    if let Event::Gift(g) = &mut nobody {
        g.gift.user = None;
    }
    let mut nameless = gift_event(21, 5, 2, true, Some((2, SettleReason::Final)));
    if let Event::Gift(g) = &mut nameless {
        g.gift.user = Some(User {
            id: 0,
            unique_id: " ".into(),
            nickname: String::new(),
            ..User::default()
        });
    }
    h.submit(&nobody).await.expect("submit");
    h.submit(&nameless).await.expect("submit");
    h.submit(&gift_event(22, 5, 1, true, Some((1, SettleReason::Final))))
        .await
        .expect("submit");
    h.drain().await.expect("drain");
    assert_eq!(rec.commands().len(), 1, "only the credited gift runs");
    let mut warnings = Vec::new();
    let mut items = 0;
    while let Ok(u) = rx.try_recv() {
        match u {
            EngineUpdate::Warning { message, .. } => warnings.push(message),
            EngineUpdate::Item(i) if i.item.msg_id != 22 => items += 1,
            _ => {}
        }
    }
    assert_eq!(items, 0);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().all(|w| w.contains("no usable viewer")));
    let stats = h.stats().await.expect("stats");
    assert_eq!(stats.invalid_events, 2);
    assert_eq!(stats.gift_units, 1);
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test]
async fn the_start_report_says_which_of_two_rules_for_one_gift_wins() {
    let json = r#"{"schemaVersion": 1,
      "actions": [{"id": "c", "steps": [{"type": "command", "template": "say {gift}"}]}],
      "rules": [{"id": "rose-name", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["c"]},
                {"id": "rose-id", "trigger": {"type": "gift", "id": 5655}, "actions": ["c"]}]}"#;
    let rec = Recorder::new();
    let (engine, report) = Engine::start(
        &Profile::from_json(json).expect("profile"),
        rec.clone(),
        EngineConfig::default(),
    )
    .expect("engine");
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].contains("\"rose-name\" wins"),
        "{:?}",
        report.warnings
    );
    let h = engine.handle();
    h.submit(&gift_event(1, 5, 3, true, Some((3, SettleReason::Final))))
        .await
        .expect("submit");
    h.drain().await.expect("drain");
    // Three units, by the name rule only.
    assert_eq!(rec.commands(), vec!["say Rose"; 3]);
    // A reload (the Mapping view saving) says it again.
    let mut rx = h.subscribe();
    h.reload(Profile::from_json(json).expect("profile"))
        .await
        .expect("reload");
    let mut said = false;
    while let Ok(u) = rx.try_recv() {
        if let EngineUpdate::Warning { message, .. } = u {
            said |= message.contains("\"rose-name\" wins");
        }
    }
    assert!(said);
    engine.shutdown(Shutdown::Drain).await;
}
