//! Lanes with paused time: pacing, gaps, step delays, cooldowns, overflow policies, controls
//! and the item lifecycle, through the public engine API with a recording executor.

use std::time::Duration;

use livetrigger_engine::engine::input::{GiftIn, Payload, Settle, Viewer};
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineHandle, EngineUpdate, Input, ItemStatus, Profile, Recorder,
    Shutdown,
};
use tokio::sync::broadcast;
use tokio::time::Instant;

fn profile(json: &str) -> Profile {
    Profile::from_json(json).unwrap_or_else(|e| panic!("test profile: {e}"))
}

fn viewer(id: u64) -> Viewer {
    Viewer {
        id,
        unique_id: format!("user{id}"),
        nickname: format!("User {id}"),
        ..Viewer::default()
    }
}

fn rose_final(msg_id: u64, user: u64, count: u32) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(user)),
        payload: Payload::Gift(GiftIn {
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
    }
}

fn chat(msg_id: u64, user: u64, text: &str) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(user)),
        payload: Payload::Chat { text: text.into() },
    }
}

fn follow(msg_id: u64, user: u64) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(viewer(user)),
        payload: Payload::Follow,
    }
}

fn start(p: &Profile, rec: &Recorder) -> (Engine, EngineHandle) {
    let (engine, _) = Engine::start(p, rec.clone(), EngineConfig::default()).expect("engine");
    let h = engine.handle();
    (engine, h)
}

const CREEPER: &str = r#"{"schemaVersion": 1,
  "lanes": [{"name": "minecraft", "minGapMs": 50}],
  "actions": [{"id": "creeper", "steps": [{"type": "command", "template": "summon minecraft:creeper ~ ~ ~"}]}],
  "rules": [{"id": "rose", "trigger": {"type": "gift", "name": "Rose"}, "actions": ["creeper"]}]}"#;

#[tokio::test(start_paused = true)]
async fn serial_lane_runs_one_at_a_time_with_the_min_gap() {
    let rec = Recorder::new().with_command_time(Duration::from_millis(20));
    let (engine, h) = start(&profile(CREEPER), &rec);
    h.submit_input(rose_final(1, 1, 5)).await.unwrap();
    h.drain().await.unwrap();
    let log = rec.log();
    assert_eq!(log.len(), 5);
    // Each command takes 20 ms and the next starts 50 ms after the previous ended: 70 ms apart.
    for pair in log.windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, Duration::from_millis(70));
    }
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(start_paused = true)]
async fn delays_between_steps_are_kept() {
    let p = profile(
        r#"{"schemaVersion": 1,
        "actions": [{"id": "a", "steps": [
            {"type": "command", "template": "say one"},
            {"type": "delay", "ms": 1500},
            {"type": "command", "template": "say two"}]}],
        "rules": [{"id": "f", "trigger": {"type": "follow"}, "actions": ["a"]}]}"#,
    );
    let rec = Recorder::new();
    let (engine, h) = start(&p, &rec);
    h.submit_input(follow(1, 1)).await.unwrap();
    h.drain().await.unwrap();
    let log = rec.log();
    assert_eq!(rec.commands(), vec!["say one", "say two"]);
    assert_eq!(log[1].0 - log[0].0, Duration::from_millis(1500));
    engine.shutdown(Shutdown::Drain).await;
}

const SOUNDS: &str = r#"{"schemaVersion": 1,
  "lanes": [{"name": "sound", "mode": "MODE", "maxConcurrent": 8}],
  "actions": [{"id": "ding", "steps": [{"type": "sound", "file": "ding.wav"}]}],
  "rules": [{"id": "f", "trigger": {"type": "follow"}, "actions": ["ding"]}]}"#;

#[tokio::test(start_paused = true)]
async fn overlap_lane_plays_together_serial_lane_one_after_another() {
    for (mode, spacing) in [("overlap", 0u64), ("serial", 1000)] {
        let rec = Recorder::new().with_sound_time(Duration::from_secs(1));
        let (engine, h) = start(&profile(&SOUNDS.replace("MODE", mode)), &rec);
        for i in 0..3 {
            h.submit_input(follow(i + 1, i + 1)).await.unwrap();
        }
        h.drain().await.unwrap();
        let log = rec.log();
        assert_eq!(log.len(), 3, "{mode}");
        for pair in log.windows(2) {
            assert_eq!(
                pair[1].0 - pair[0].0,
                Duration::from_millis(spacing),
                "{mode}"
            );
        }
        engine.shutdown(Shutdown::Drain).await;
    }
}

#[tokio::test(start_paused = true)]
async fn per_user_cooldown_follows_the_clock() {
    let p = profile(
        r#"{"schemaVersion": 1,
        "actions": [{"id": "tnt", "steps": [{"type": "command", "template": "summon minecraft:tnt ~ ~ ~"}]}],
        "rules": [{"id": "tnt", "trigger": {"type": "chatCommand", "command": "!tnt"},
                   "filters": {"userCooldownMs": 10000}, "actions": ["tnt"]}]}"#,
    );
    let rec = Recorder::new();
    let (engine, h) = start(&p, &rec);
    let t0 = Instant::now();
    h.submit_input(chat(1, 1, "!tnt")).await.unwrap();
    h.drain().await.unwrap();
    tokio::time::sleep_until(t0 + Duration::from_millis(9_999)).await;
    h.submit_input(chat(2, 1, "!TNT")).await.unwrap();
    h.submit_input(chat(3, 2, "!tnt")).await.unwrap();
    h.drain().await.unwrap();
    assert_eq!(
        rec.commands().len(),
        2,
        "the same viewer waits, another does not"
    );
    tokio::time::sleep_until(t0 + Duration::from_millis(10_000)).await;
    h.submit_input(chat(4, 1, "!tnt")).await.unwrap();
    h.drain().await.unwrap();
    assert_eq!(rec.commands().len(), 3, "after 10 s the viewer may again");
    engine.shutdown(Shutdown::Drain).await;
}

/// Collects every item's final status, by item id.
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

fn overflow_profile(policy: &str, protect: bool) -> Profile {
    profile(&format!(
        r#"{{"schemaVersion": 2,
        "lanes": [{{"name": "minecraft", "maxDepth": 3, "overflow": "{policy}", "protectPaid": {protect}}}],
        "actions": [
          {{"id": "say", "steps": [{{"type": "command", "template": "say {{user}}"}}]}},
          {{"id": "thanks", "steps": [{{"type": "command", "template": "say {{user}} x{{count}}"}}]}}],
        "rules": [
          {{"id": "chat", "trigger": {{"type": "chatCommand", "command": "!go"}}, "actions": ["say"]}},
          {{"id": "like", "trigger": {{"type": "likes", "every": 1}}, "streakMode": "perStreak", "actions": ["thanks"]}},
          {{"id": "rose", "trigger": {{"type": "gift", "name": "Rose"}}, "streakMode": "perStreak", "actions": ["thanks"]}}]}}"#
    ))
}

/// Pauses the lane, sends five `!go` chats (depth 3) and a paid 7-Rose streak, resumes.
async fn run_overflow(policy: &str, protect: bool) -> (Vec<String>, Vec<(u64, ItemStatus)>) {
    let rec = Recorder::new();
    let (engine, h) = start(&overflow_profile(policy, protect), &rec);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    for i in 1..=5 {
        h.submit_input(chat(i, i, "!go")).await.unwrap();
    }
    h.submit_input(rose_final(10, 9, 7)).await.unwrap();
    h.drain().await.unwrap();
    assert_eq!(rec.commands().len(), 0, "a paused lane runs nothing");
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    let snapshot = h.lanes();
    engine.shutdown(Shutdown::Drain).await;
    let lane = snapshot.iter().find(|l| l.name == "minecraft").unwrap();
    assert_eq!(
        lane.dropped as usize,
        dropped(&f),
        "the lane counts what it dropped"
    );
    (rec.commands(), f)
}

fn dropped(f: &[(u64, ItemStatus)]) -> usize {
    f.iter()
        .filter(|(_, s)| matches!(s, ItemStatus::Dropped { .. }))
        .count()
}

fn says(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("say {n}")).collect()
}

#[tokio::test(start_paused = true)]
async fn drop_newest_keeps_the_first_and_the_paid_gift_goes_first() {
    let (cmds, f) = run_overflow("dropNewest", true).await;
    assert_eq!(
        cmds,
        says(&["User 9 x7", "User 1", "User 2", "User 3"]),
        "the paid gift ran first although it came last"
    );
    assert_eq!(dropped(&f), 2);
}

#[tokio::test(start_paused = true)]
async fn drop_oldest_keeps_the_latest() {
    let (cmds, f) = run_overflow("dropOldest", true).await;
    assert_eq!(cmds, says(&["User 9 x7", "User 3", "User 4", "User 5"]));
    assert_eq!(dropped(&f), 2);
}

#[tokio::test(start_paused = true)]
async fn without_protection_paid_items_over_the_depth_follow_the_policy() {
    let rec = Recorder::new();
    let (engine, h) = start(&overflow_profile("dropNewest", false), &rec);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    for i in 1..=5 {
        h.submit_input(rose_final(10 + i, i, 1)).await.unwrap();
    }
    h.drain().await.unwrap();
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    engine.shutdown(Shutdown::Drain).await;
    assert_eq!(
        rec.commands(),
        says(&["User 1 x1", "User 2 x1", "User 3 x1"])
    );
    assert_eq!(dropped(&f), 2);
}

#[tokio::test(start_paused = true)]
async fn like_milestones_of_one_rule_merge_into_one_run_with_the_count() {
    let rec = Recorder::new();
    let (engine, h) = start(&overflow_profile("dropNewest", true), &rec);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    // Five messages of 2 likes with "every 1": 2 crossings each.
    for i in 1..=5u64 {
        h.submit_input(Input {
            msg_id: 100 + i,
            is_history: false,
            user: Some(viewer(4)),
            payload: Payload::Like {
                count: 2,
                total: 2 * i,
            },
        })
        .await
        .unwrap();
    }
    h.drain().await.unwrap();
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    let lane = h
        .lanes()
        .into_iter()
        .find(|l| l.name == "minecraft")
        .unwrap();
    engine.shutdown(Shutdown::Drain).await;
    // One run carrying all ten crossings.
    assert_eq!(rec.commands(), says(&["User 4 x10"]));
    let merged = f
        .iter()
        .filter(|(_, s)| matches!(s, ItemStatus::Dropped { reason } if reason.starts_with("merged into")))
        .count();
    assert_eq!(merged, 4);
    assert_eq!(lane.coalesced, 4);
}

#[tokio::test(start_paused = true)]
async fn coalesce_policy_merges_repeats_over_the_depth() {
    let rec = Recorder::new();
    let (engine, h) = start(&overflow_profile("coalesce", true), &rec);
    let mut rx = h.subscribe();
    h.pause("minecraft").unwrap();
    for i in 1..=5 {
        h.submit_input(chat(i, i, "!go")).await.unwrap();
    }
    h.drain().await.unwrap();
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    engine.shutdown(Shutdown::Drain).await;
    // Three fit; the other two merge into the last waiting one (one run, {count} 3).
    assert_eq!(rec.commands(), says(&["User 1", "User 2", "User 3"]));
    let merged = f
        .iter()
        .filter(|(_, s)| matches!(s, ItemStatus::Dropped { reason } if reason.starts_with("merged into")))
        .count();
    assert_eq!(merged, 2);
}

#[tokio::test(start_paused = true)]
async fn lifecycle_queued_running_done_failed_skipped_dropped() {
    let p = profile(
        r#"{"schemaVersion": 1,
        "actions": [
          {"id": "ok", "steps": [{"type": "command", "template": "say ok {user}"}]},
          {"id": "bad", "steps": [{"type": "command", "template": "say FAIL"}]},
          {"id": "slow", "steps": [{"type": "command", "template": "say slow"}, {"type": "delay", "ms": 60000}]}],
        "rules": [
          {"id": "f", "trigger": {"type": "follow"}, "actions": ["ok"]},
          {"id": "s", "trigger": {"type": "share"}, "actions": ["bad"]},
          {"id": "j", "trigger": {"type": "join"}, "actions": ["slow"]}]}"#,
    );
    let rec = Recorder::new().failing_on("FAIL");
    let (engine, h) = start(&p, &rec);
    let mut rx = h.subscribe();
    h.submit_input(follow(1, 1)).await.unwrap();
    h.drain().await.unwrap();
    let mut seen = Vec::new();
    while let Ok(u) = rx.try_recv() {
        if let EngineUpdate::Item(u) = u {
            seen.push((u.status.name(), u.item.commands()));
        }
    }
    assert_eq!(
        seen,
        vec![
            ("queued", vec!["say ok User 1".to_string()]),
            ("running", vec!["say ok User 1".to_string()]),
            ("done", vec!["say ok User 1".to_string()]),
        ]
    );

    h.submit_input(Input {
        payload: Payload::Share,
        ..follow(2, 2)
    })
    .await
    .unwrap();
    h.drain().await.unwrap();
    assert!(matches!(
        finals(&mut rx).as_slice(),
        [(
            _,
            ItemStatus::Failed {
                may_have_run: false,
                ..
            }
        )]
    ));

    // A slow item is skipped while its command runs; the one behind it is cleared.
    h.submit_input(Input {
        payload: Payload::Join,
        ..follow(3, 3)
    })
    .await
    .unwrap();
    h.submit_input(Input {
        payload: Payload::Join,
        ..follow(4, 4)
    })
    .await
    .unwrap();
    rec.wait_for(2).await;
    h.clear("minecraft").unwrap();
    h.skip_current("minecraft").unwrap();
    h.drain().await.unwrap();
    let f = finals(&mut rx);
    // Its command was already with the server: not a clean skip, so no blind re-run.
    assert!(
        f.iter().any(|(_, s)| matches!(s, ItemStatus::Failed { may_have_run: true, reason } if reason.contains("skipped"))),
        "{f:?}"
    );
    assert!(
        f.iter().any(
            |(_, s)| matches!(s, ItemStatus::Dropped { reason } if reason == "cleared by the user")
        ),
        "{f:?}"
    );
    assert_eq!(rec.commands().len(), 2, "the cleared item never ran");
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(start_paused = true)]
async fn panic_button_clears_and_pauses_every_lane() {
    let rec = Recorder::new().with_command_time(Duration::from_millis(10));
    let (engine, h) = start(&profile(CREEPER), &rec);
    h.submit_input(rose_final(1, 1, 50)).await.unwrap();
    rec.wait_for(3).await;
    h.panic();
    h.drain().await.unwrap();
    let ran = rec.commands().len();
    assert!(ran < 50, "{ran}");
    assert!(h.lanes().iter().all(|l| l.paused && l.waiting == 0));
    // New events queue up but nothing runs until resumed.
    h.submit_input(rose_final(2, 1, 2)).await.unwrap();
    h.drain().await.unwrap();
    assert_eq!(rec.commands().len(), ran);
    h.resume_all();
    h.drain().await.unwrap();
    assert_eq!(rec.commands().len(), ran + 2);
    engine.shutdown(Shutdown::Drain).await;
}

/// Schema version 1 ran a likes rule once per threshold crossed, and the old starter's
/// `time add 1000` was written for that: loaded today, it must still skip 1000 ticks per 100
/// likes, not once per like message nor once per merged run.
#[tokio::test(start_paused = true)]
async fn the_version_1_starter_still_skips_time_once_per_100_likes() {
    let p = profile(include_str!("fixtures/v1-minecraft-starter.json"));
    let rule = p.rules.iter().find(|r| r.id == "likes-time").unwrap();
    assert!(rule.run_per_threshold);
    assert!(
        p.warnings()
            .iter()
            .any(|w| w.contains("likes-time") && w.contains("runPerThreshold")),
        "{:?}",
        p.warnings()
    );
    let rec = Recorder::new();
    let (engine, h) = start(&p, &rec);
    h.pause("minecraft").unwrap();
    // 250 likes at once (two thresholds), then 50, 50, 50: 400 in all, four thresholds.
    for (i, (count, total)) in [(250u32, 250u64), (50, 300), (50, 350), (50, 400)]
        .into_iter()
        .enumerate()
    {
        h.submit_input(Input {
            msg_id: 200 + i as u64,
            is_history: false,
            user: Some(viewer(4)),
            payload: Payload::Like { count, total },
        })
        .await
        .unwrap();
    }
    h.drain().await.unwrap();
    h.resume("minecraft").unwrap();
    h.drain().await.unwrap();
    engine.shutdown(Shutdown::Drain).await;
    assert_eq!(rec.commands(), vec!["time add 1000"; 4]);
}
