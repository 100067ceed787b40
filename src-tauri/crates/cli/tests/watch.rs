//! `livetrigger-cli watch` against the simulator: events as JSON lines, recording, exit codes.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use webcast_sim::{RoomState, SimConfig, Simulator};

async fn watch(sim_cfg: SimConfig, extra: &[&str]) -> (Vec<serde_json::Value>, bool) {
    let sim = Simulator::start(sim_cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = sim.base_url();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"))
        .args([
            "watch",
            "--user",
            "simstreamer",
            "--web-url",
            &url,
            "--sign-url",
            &url,
        ])
        .args(["--max-attempts", "2"])
        .args(extra)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            out.push(serde_json::from_str::<serde_json::Value>(&line).expect("JSON line"));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("watch exits when the stream ends");
    let status = child.wait().await.unwrap();
    (out, status.success())
}

fn count(lines: &[serde_json::Value], ty: &str) -> usize {
    lines.iter().filter(|l| l["type"] == ty).count()
}

#[tokio::test]
async fn prints_the_stream_and_exits_zero_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let cfg = SimConfig {
        time_scale: 0.0,
        end_grace: Duration::from_millis(200),
        ..SimConfig::default()
    };
    let want = webcast_sim::script::demo().expected();
    let (lines, ok) = watch(cfg, &["--record", rec.to_str().unwrap()]).await;
    assert!(ok);
    assert_eq!(count(&lines, "connected"), 1);
    assert_eq!(count(&lines, "follow"), want.follows);
    assert_eq!(count(&lines, "join"), want.joins);
    let settled: u64 = lines
        .iter()
        .filter(|l| l["type"] == "gift")
        .filter_map(|l| l["settled"]["count"].as_u64())
        .sum();
    assert_eq!(settled, want.gift_units.values().sum::<u64>());
    // 64-bit ids survive as exact numbers in JSON (no float rounding in the output).
    let gift = lines.iter().find(|l| l["type"] == "gift").unwrap();
    assert!(gift["gift"]["user"]["id"].as_u64().is_some(), "{gift}");
    assert_eq!(count(&lines, "stream_ended"), 1);
    assert!(lines
        .iter()
        .any(|l| l["type"] == "state" && l["state"]["state"] == "ended"));
    // The recording is decodable frame by frame.
    assert!(rec.join("initial_fetch.bin").is_file());
    assert!(std::fs::read_dir(rec.join("frames")).unwrap().count() > 10);
}

#[tokio::test]
async fn a_missing_user_is_a_clear_failure() {
    let cfg = SimConfig {
        room_state: RoomState::NotFound,
        ..SimConfig::default()
    };
    let (lines, ok) = watch(cfg, &[]).await;
    assert!(!ok, "non-zero exit");
    let err = lines
        .iter()
        .find(|l| l["type"] == "error")
        .expect("an error line");
    assert_eq!(err["code"], "user_not_found");
    assert!(err["message"].as_str().unwrap().contains("simstreamer"));
}
