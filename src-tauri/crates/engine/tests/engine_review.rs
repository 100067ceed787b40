//! Regressions from a review of the counting path: stopping with an open streak, and a JSON
//! string component inside an SNBT string.

use std::path::PathBuf;
use std::time::Duration;

use livetrigger_engine::engine::{
    pump, Engine, EngineConfig, EngineUpdate, Profile, Recorder, Shutdown,
};
use livetrigger_engine::outputs::template::{Template, TemplateEvent};
use tiktok_live::client::{ClientConfig, LiveClient};
use tiktok_live::target::Target;
use tokio_util::sync::CancellationToken;
use webcast_sim::script::hostile_users;
use webcast_sim::{Msg, Script, SimConfig, Simulator, Step};

fn starter() -> Profile {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/minecraft-starter.json");
    Profile::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What `livetrigger-cli run` does on Ctrl-C: one token cancels both the client and pump.
/// LiveStream::stop promises "pending streaks are settled"; the 3 Roses of an open streak
/// must still become 3 creepers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_an_open_streak_keeps_its_units() {
    let anna = hostile_users()[0].clone();
    let rose = |n: u32| Msg::Gift {
        user: anna.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: n,
        repeat_end: false,
        group_id: 10,
    };
    let script = Script {
        history: vec![],
        steps: vec![
            Step::Frame {
                messages: vec![rose(1)],
            },
            Step::Frame {
                messages: vec![rose(3)],
            },
            Step::Wait { ms: 20_000 },
            Step::EndStream,
        ],
    };
    let sim = Simulator::start(
        SimConfig::with_script(script),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let rec = Recorder::new();
    let (engine, _) = Engine::start(&starter(), rec.clone(), EngineConfig::default()).unwrap();
    let h = engine.handle();
    let mut updates = h.subscribe();
    let client = LiveClient::new(ClientConfig::local(&sim.base_url())).unwrap(); // 10 s streak timeout
    let cancel = CancellationToken::new();
    let stream = client.connect(
        Target::User(webcast_sim::DEFAULT_USER.into()),
        cancel.clone(),
    );
    let (h2, c2) = (h.clone(), cancel.clone());
    let pumping = tokio::spawn(async move { pump(stream, &h2, &c2).await });
    // Wait for the second intermediate message to reach the engine.
    let mut seen = 0;
    while seen < 2 {
        if let Ok(EngineUpdate::Event { summary, .. }) = updates.recv().await {
            if summary.contains("Rose") {
                seen += 1;
            }
        }
    }
    cancel.cancel(); // Ctrl-C
    pumping.await.unwrap();
    assert!(h.drain_for(Duration::from_secs(5)).await);
    engine.shutdown(Shutdown::Drain).await;
    let creepers = rec
        .commands()
        .iter()
        .filter(|c| c.contains("creeper"))
        .count();
    assert_eq!(creepers, 3, "{:?}", rec.commands());
}

/// A JSON *string* text component inside an SNBT string gets both layers of escaping.
#[test]
fn json_string_component_inside_snbt_string() {
    for tpl in [
        r#"summon zombie ~ ~ ~ {CustomName:'"{user}"'}"#,
        r#"summon zombie ~ ~ ~ {CustomName:"\"{user}\""}"#,
    ] {
        let t = Template::parse(tpl).unwrap();
        let ev = TemplateEvent {
            user: r#"x\u00a7k","extra":"y"#.into(),
            ..Default::default()
        };
        let cmd = t
            .render(&ev, &mut fastrand::Rng::with_seed(1))
            .unwrap()
            .command;
        // Undo the SNBT layer, then read the JSON text.
        let start = cmd.find("CustomName:").unwrap() + "CustomName:".len();
        let q = cmd[start..].chars().next().unwrap();
        let body = &cmd[start + 1..cmd.len() - 2];
        let mut json = String::new();
        let mut it = body.chars();
        while let Some(c) = it.next() {
            if c == '\\' {
                json.push(it.next().unwrap());
            } else {
                assert_ne!(c, q);
                json.push(c);
            }
        }
        let parsed: Result<String, _> = serde_json::from_str(&json);
        assert!(
            matches!(&parsed, Ok(s) if !s.contains('§')),
            "{tpl}\n -> {cmd}\n JSON text {json} -> {parsed:?}"
        );
    }
}
