//! Contained failures, injected: a panicking executor step, a panicking handler step (a
//! validator, run where matching runs), a panicking RCON connector and a sound device that
//! panics while opening. Each fault is reported (engine update and the process-wide fault
//! state the status bar shows), the item it held fails with the reason, and later events
//! still run. The panic button also silences the sound output.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use livetrigger_engine::engine::input::{Payload, Viewer};
use livetrigger_engine::engine::registry::Invalid;
use livetrigger_engine::engine::{
    Engine, EngineConfig, EngineUpdate, EventKind, Input, ItemStatus, Profile, Recorder, Registry,
    Shutdown,
};
use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use livetrigger_engine::outputs::rcon::{Connector, RconConfig, RconOutput};
use livetrigger_engine::outputs::sound::{SoundConfig, SoundHealth, SoundOutput};
use livetrigger_engine::supervise;
use tokio::net::TcpStream;
use tokio::sync::broadcast;

fn profile() -> Profile {
    Profile::from_json(
        r#"{"schemaVersion": 1,
        "lanes": [{"name": "minecraft", "minGapMs": 0}],
        "actions": [{"id": "say", "steps": [{"type": "command", "template": "say {comment}"}]},
                    {"id": "hello", "steps": [{"type": "command", "template": "say hello {username}"}]}],
        "rules": [{"id": "chat", "trigger": {"type": "chatCommand", "command": "!say"}, "actions": ["say"]},
                  {"id": "follow", "trigger": {"type": "follow"}, "actions": ["hello"]}]}"#,
    )
    .expect("profile")
}

fn input(msg_id: u64, payload: Payload) -> Input {
    Input {
        msg_id,
        is_history: false,
        user: Some(Viewer {
            id: msg_id,
            unique_id: format!("v{msg_id}"),
            nickname: String::new(),
            ..Viewer::default()
        }),
        payload,
    }
}

fn chat(msg_id: u64, text: &str) -> Input {
    input(msg_id, Payload::Chat { text: text.into() })
}

/// Collects the updates seen so far (the engine is drained first).
fn faults_and_failures(rx: &mut broadcast::Receiver<EngineUpdate>) -> (Vec<String>, Vec<String>) {
    let (mut faults, mut failed) = (Vec::new(), Vec::new());
    while let Ok(u) = rx.try_recv() {
        match u {
            EngineUpdate::Fault {
                component, message, ..
            } => faults.push(format!("{component}: {message}")),
            EngineUpdate::Item(i) => {
                if let ItemStatus::Failed { reason, .. } = &i.status {
                    failed.push(format!("{}: {reason}", i.item.commands().join(";")));
                }
            }
            _ => {}
        }
    }
    (faults, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_executor_step_fails_its_item_and_later_events_still_run() {
    let rec = Recorder::new().panicking_on("boom");
    let (engine, _) =
        Engine::start(&profile(), rec.clone(), EngineConfig::default()).expect("engine");
    let h = engine.handle();
    let mut rx = h.subscribe();
    let before = supervise::current().count;
    h.submit_input(chat(1, "!say boom")).await.expect("submit");
    h.submit_input(input(2, Payload::Follow))
        .await
        .expect("submit");
    h.submit_input(chat(3, "!say after")).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands(), vec!["say hello v2", "say after"]);
    let (faults, failed) = faults_and_failures(&mut rx);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(faults[0].starts_with("lane minecraft"), "{faults:?}");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains("say boom") && failed[0].contains("injected executor fault"),
        "the reason names the panic: {failed:?}"
    );
    assert!(
        supervise::current().count > before,
        "visible to the status bar"
    );
    engine.shutdown(Shutdown::Drain).await;
}

fn panicking_chat(input: &mut Input) -> Result<(), Invalid> {
    if matches!(&input.payload, Payload::Chat { text } if text.contains("boom")) {
        panic!("injected handler fault");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_step_loses_one_event_and_the_handler_goes_on() {
    let rec = Recorder::new();
    let mut registry = Registry::default();
    registry.on(EventKind::Chat, panicking_chat);
    let (engine, _) = Engine::start(
        &profile(),
        rec.clone(),
        EngineConfig {
            registry: Some(registry),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();
    let mut rx = h.subscribe();
    h.submit_input(chat(1, "!say boom")).await.expect("submit");
    h.submit_input(input(2, Payload::Follow))
        .await
        .expect("submit");
    h.submit_input(chat(3, "!say after")).await.expect("submit");
    assert!(h.drain_for(Duration::from_secs(10)).await);
    assert_eq!(rec.commands(), vec!["say hello v2", "say after"]);
    let (faults, _) = faults_and_failures(&mut rx);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(
        faults[0].starts_with("handler: chat event 1 was not handled")
            && faults[0].contains("injected handler fault"),
        "{faults:?}"
    );
    engine.shutdown(Shutdown::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panic_button_also_stops_sounds() {
    let rec = Recorder::new();
    let (engine, _) =
        Engine::start(&profile(), rec.clone(), EngineConfig::default()).expect("engine");
    engine.handle().panic();
    assert_eq!(rec.stops(), 1);
    engine.shutdown(Shutdown::Persist).await;
}

/// Connects over TCP, but the first attempt panics.
struct PanicsFirst {
    attempts: Arc<AtomicUsize>,
}

impl Connector for PanicsFirst {
    type Io = TcpStream;
    async fn connect(&mut self, addr: &str) -> std::io::Result<TcpStream> {
        if self.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("injected RCON fault");
        }
        TcpStream::connect(addr).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_rcon_actor_restarts_with_its_queue() {
    let server = McRconServer::start("pw").await.expect("server");
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut cfg = RconConfig::new(server.addr().to_string(), "pw");
    cfg.backoff_max = Duration::from_millis(200);
    let mut faults = supervise::subscribe();
    let out = RconOutput::spawn_with(
        cfg,
        PanicsFirst {
            attempts: attempts.clone(),
        },
    );
    let reply = tokio::time::timeout(Duration::from_secs(10), out.handle().send("list"))
        .await
        .expect("answered");
    assert!(reply.is_ok(), "{reply:?}");
    assert_eq!(server.state().executed(), vec!["list"]);
    assert!(attempts.load(Ordering::SeqCst) >= 2, "restarted");
    // Other tests in this binary report faults too: look for this one among the recent.
    let seen = faults
        .wait_for(|f| {
            f.recent
                .iter()
                .any(|l| l.message.contains("injected RCON fault"))
        })
        .await
        .expect("fault state")
        .clone();
    let mine = seen
        .recent
        .iter()
        .find(|l| l.message.contains("injected RCON fault"))
        .expect("the fault");
    assert_eq!(mine.component, "rcon");
    out.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sound_device_that_panics_while_opening_is_reported_not_fatal() {
    let out = SoundOutput::start_with(SoundConfig::default(), || -> Result<_, String> {
        panic!("injected audio driver fault")
    });
    let h = out.handle();
    let health = h
        .health()
        .wait_for(|s| !matches!(s, SoundHealth::Starting))
        .await
        .expect("health")
        .clone();
    match health {
        SoundHealth::NoAudioDevice { reason } => {
            assert!(reason.contains("injected audio driver fault"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // The thread is alive and answers with a clear error.
    let missing = h.preload("/nonexistent/sound.wav").await;
    assert!(missing.is_err());
    tokio::task::spawn_blocking(move || out.shutdown())
        .await
        .expect("shutdown");
}
