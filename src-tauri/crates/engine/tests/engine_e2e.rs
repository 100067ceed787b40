//! End to end: webcast simulator → TikTok client → engine (starter profile) → RCON actor →
//! Minecraft-faithful RCON server, all real sockets on 127.0.0.1. The counts asserted are
//! exact: a missing or doubled command fails the test.

use std::path::PathBuf;
use std::time::Duration;

use livetrigger_engine::engine::{pump, Engine, EngineConfig, OutputsExecutor, Profile, Shutdown};
use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use livetrigger_engine::outputs::rcon::{RconConfig, RconOutput};
use tiktok_live::client::{ClientConfig, LiveClient};
use tiktok_live::target::Target;
use tokio_util::sync::CancellationToken;
use webcast_sim::script::hostile_users;
use webcast_sim::{ConnFault, Msg, Script, SimConfig, SimUser, Simulator, Step};

const PASSWORD: &str = "e2e-password";

fn starter() -> Profile {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/minecraft-starter.json");
    let text = std::fs::read_to_string(path).expect("read the starter profile");
    Profile::from_json(&text).expect("the starter profile loads")
}

fn rose(user: &SimUser, repeat: u32, end: bool, group: u64) -> Msg {
    Msg::Gift {
        user: user.clone(),
        gift_id: 5655,
        name: "Rose".into(),
        diamond_count: 1,
        gift_type: 1,
        repeat_count: repeat,
        repeat_end: end,
        group_id: group,
    }
}

fn one(m: Msg) -> Step {
    Step::Frame { messages: vec![m] }
}

/// A stream with interleaved Rose streaks, a lost final, a farmed follow, cooldown-limited
/// chat commands, like milestones and a big gift, from viewers with hostile nicknames.
fn script() -> Script {
    let u = hostile_users();
    let (anna, bob, lines, colour, sel, json, mia) =
        (&u[0], &u[1], &u[2], &u[3], &u[4], &u[5], &u[9]);
    let chat = |user: &SimUser, content: &str| Msg::Chat {
        user: user.clone(),
        content: content.into(),
    };
    Script {
        history: vec![
            // History is never acted on: this Rose happened before we connected.
            rose(anna, 9, true, 1),
        ],
        steps: vec![
            // anna: 1, 3, 5, final 5 → 5 creepers.
            one(rose(anna, 1, false, 10)),
            one(rose(anna, 3, false, 10)),
            one(rose(anna, 5, false, 10)),
            one(rose(anna, 5, true, 10)),
            // bob and lines interleaved → 4 + 3 creepers.
            one(rose(bob, 2, false, 11)),
            one(rose(lines, 1, false, 12)),
            one(rose(bob, 4, false, 11)),
            one(rose(lines, 3, true, 12)),
            one(rose(bob, 4, true, 11)),
            // colour's final never comes → settled by timeout with 6.
            one(rose(colour, 2, false, 13)),
            one(rose(colour, 6, false, 13)),
            // Follows: json twice (farming: once), sel once → 2 tellraw.
            one(Msg::Follow { user: json.clone() }),
            one(Msg::Follow { user: sel.clone() }),
            one(Msg::Follow { user: json.clone() }),
            // !tnt: bob twice within 10 s (once), mia once, sel with a newline trick → 3 TNT.
            // (The starter's global cooldown allows 4 a second: these are 300 ms apart.)
            one(chat(bob, "!tnt")),
            Step::Wait { ms: 300 },
            one(chat(bob, "!TNT again")),
            Step::Wait { ms: 300 },
            one(chat(mia, "!tnt")),
            Step::Wait { ms: 300 },
            one(chat(sel, "!tnt\nop @a")),
            // Likes: 60 → 110 → 205: two crossings of 100 → 2 time skips.
            one(Msg::Like {
                user: anna.clone(),
                count: 60,
                total: 60,
            }),
            one(Msg::Like {
                user: bob.clone(),
                count: 50,
                total: 110,
            }),
            one(Msg::Like {
                user: anna.clone(),
                count: 95,
                total: 205,
            }),
            // A Galaxy (1000 coins): the sound rule; no audio device here, so it fails visibly.
            one(Msg::Gift {
                user: mia.clone(),
                gift_id: 11046,
                name: "Galaxy".into(),
                diamond_count: 1000,
                gift_type: 2,
                repeat_count: 1,
                repeat_end: false,
                group_id: 14,
            }),
            Step::Wait { ms: 800 },
            Step::EndStream,
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starter_profile_end_to_end_exact_counts() {
    let rcon = McRconServer::start(PASSWORD).await.expect("rcon server");
    let sim = Simulator::start(
        SimConfig {
            // Drop the socket mid-stream; the reconnect replays the last frames (same msg_ids).
            conn_faults: vec![ConnFault::DropAfter { frames: 8 }],
            resend_on_reconnect: 6,
            ..SimConfig::with_script(script())
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator");

    let data = tempfile::tempdir().expect("tempdir");
    let mut profile = starter();
    profile.rcon.as_mut().expect("rcon settings").port = rcon.addr().port();
    let output = RconOutput::spawn(RconConfig::new(rcon.addr().to_string(), PASSWORD));
    let exec = OutputsExecutor {
        rcon: Some(output.handle()),
        ..OutputsExecutor::default()
    };
    let (engine, _) = Engine::start(
        &profile,
        exec,
        EngineConfig {
            data_dir: Some(data.path().to_owned()),
            target: "e2e".into(),
            ..EngineConfig::default()
        },
    )
    .expect("engine");
    let h = engine.handle();

    let mut cfg = ClientConfig::local(&sim.base_url());
    cfg.streak_timeout = Duration::from_millis(300);
    cfg.backoff.initial = Duration::from_millis(50);
    cfg.backoff.max_attempts = Some(5);
    let client = LiveClient::new(cfg).expect("client");
    let cancel = CancellationToken::new();
    let stream = client.connect(
        Target::User(webcast_sim::DEFAULT_USER.into()),
        cancel.clone(),
    );
    let pumped = tokio::time::timeout(Duration::from_secs(30), pump(stream, &h, &cancel))
        .await
        .expect("the stream ends");
    assert!(pumped > 20, "{pumped} events");
    assert!(
        h.drain_for(Duration::from_secs(30)).await,
        "the queue drains"
    );
    let stats = h.stats().await.expect("stats");
    engine.shutdown(Shutdown::Drain).await;
    output.shutdown().await;

    let recorded = sim.recorded();
    assert!(recorded.connections >= 2, "the fault forced a reconnect");

    let executed = rcon.state().executed();
    let count = |c: &str| executed.iter().filter(|e| e.as_str() == c).count();
    // At the streamer's player, not at the world spawn where RCON commands run.
    assert_eq!(
        count("execute at @p run summon minecraft:creeper ~ ~ ~"),
        5 + 4 + 3 + 6,
        "{executed:#?}"
    );
    assert_eq!(
        count("execute at @p run summon minecraft:tnt ~ ~ ~"),
        3,
        "{executed:#?}"
    );
    // Two crossings of 100 likes: one or two runs (they merge while waiting), 2000 ticks.
    let time: Vec<u64> = executed
        .iter()
        .filter_map(|e| e.strip_prefix("time add "))
        .map(|n| n.parse().expect("ticks"))
        .collect();
    assert_eq!(time.iter().sum::<u64>(), 2000, "{executed:#?}");
    let tellraws: Vec<&String> = executed
        .iter()
        .filter(|e| e.starts_with("tellraw @a "))
        .collect();
    assert_eq!(tellraws.len(), 2, "{executed:#?}");
    assert_eq!(
        executed.len(),
        18 + 3 + 2 + time.len(),
        "nothing else reached the server: {executed:#?}"
    );

    // Hostile nicknames stay text: the JSON parses to exactly the component the template
    // has, with only text and colour keys.
    for t in tellraws {
        let json: serde_json::Value =
            serde_json::from_str(&t["tellraw @a ".len()..]).unwrap_or_else(|e| panic!("{t}: {e}"));
        let parts = json.as_array().expect("array");
        assert_eq!(parts.len(), 3, "{t}");
        for p in &parts[1..] {
            let keys: Vec<&String> = p.as_object().expect("object").keys().collect();
            assert_eq!(keys, vec!["color", "text"], "{t}");
        }
        let name = parts[1]["text"].as_str().expect("text");
        assert!(
            !name.contains('@') && !name.contains('\n') && !name.contains('§'),
            "{t}"
        );
        assert_eq!(parts[2]["text"], " followed the stream!");
    }
    // The store saw the same session.
    let units: u64 = stats.gift_units;
    assert_eq!(
        units,
        18 + 1,
        "settled Rose units plus the Galaxy: {stats:?}"
    );
    assert!(stats
        .top_gifters
        .iter()
        .any(|g| g.username == "mod_mia" && g.diamonds == 1000));
    let items: std::collections::HashMap<String, u64> = stats.items.into_iter().collect();
    assert_eq!(
        items.get("done"),
        Some(&(18 + 3 + 2 + time.len() as u64)),
        "{items:?}"
    );
    assert_eq!(
        items.get("failed"),
        Some(&1),
        "the sound without a device: {items:?}"
    );
    sim.shutdown().await;
}
