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
    let rec = dir.path().join("stream.ltrec");
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
    // The recording is one file: the sign reply, then every frame.
    let mut reader = tiktok_live::record::Reader::open(&rec).unwrap();
    let mut kinds = Vec::new();
    while let Some(item) = reader.next_record().unwrap() {
        kinds.push(item.kind);
    }
    assert_eq!(kinds[0], tiktok_live::record::RecordKind::SignReply);
    assert!(kinds.len() > 10);
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

/// What one `watch` run printed, and what the simulator saw.
struct Watched {
    stdout: String,
    stderr: String,
    ok: bool,
    rec: webcast_sim::Recorded,
}

/// Runs `watch` against a simulator whose sign server is on its own origin.
async fn watch_policy(sim_cfg: SimConfig, extra: &[&str], env: &[(&str, &str)]) -> Watched {
    let sim = Simulator::start(
        SimConfig {
            time_scale: 0.0,
            end_grace: Duration::from_millis(200),
            sign_separate_origin: true,
            ..sim_cfg
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"));
    cmd.args(["watch", "--user", "simstreamer", "--web-url"])
        .arg(sim.base_url())
        .arg("--sign-url")
        .arg(sim.sign_url())
        .args(["--max-attempts", "3"])
        .args(extra)
        .env_remove("LIVETRIGGER_SIGN_API_KEY")
        .env_remove("LIVETRIGGER_TIKTOK_SESSION_ID")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("watch exits")
        .unwrap();
    let rec = sim
        .wait_for(|r| r.open_connections == 0, Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| *e.last);
    Watched {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
        rec,
    }
}

#[tokio::test]
async fn room_info_prompts_do_not_stop_watch() {
    let w = watch_policy(
        SimConfig {
            room_info_prompts: true,
            ..SimConfig::default()
        },
        &[],
        &[],
    )
    .await;
    assert!(w.ok, "{}", w.stderr);
    assert!(w.stdout.contains("\"type\":\"connected\""));
    assert!(w.stdout.contains("\"type\":\"stream_ended\""));
}

#[tokio::test]
async fn watch_says_when_it_reconnects() {
    let w = watch_policy(
        SimConfig {
            sign_faults: vec![webcast_sim::SignFault::RateLimited {
                retry_after_secs: 3,
            }],
            ..SimConfig::default()
        },
        &[],
        &[],
    )
    .await;
    assert!(w.ok, "{}", w.stderr);
    assert!(
        w.stderr.contains("reconnecting in 3 s (attempt 1)"),
        "stderr: {}",
        w.stderr
    );
    assert_eq!(w.rec.sign_requests.len(), 2);
}

#[tokio::test]
async fn a_refused_api_key_stops_watch_at_once() {
    let w = watch_policy(
        SimConfig {
            api_key: Some("right".into()),
            ..SimConfig::default()
        },
        &["--sign-api-key", "wrong-key-123"],
        &[],
    )
    .await;
    assert!(!w.ok);
    assert!(
        w.stderr.contains("the sign server refused the API key"),
        "stderr: {}",
        w.stderr
    );
    assert!(w.stdout.contains("\"code\":\"sign_refused\""));
    assert_eq!(w.rec.sign_requests.len(), 1, "no retry");
    assert!(!w.stdout.contains("wrong-key-123") && !w.stderr.contains("wrong-key-123"));
}

#[tokio::test]
async fn the_key_and_the_session_go_only_where_they_belong() {
    for trusted in [false, true] {
        let mut extra = vec!["--session-id", "sess-777"];
        if trusted {
            extra.push("--trust-sign-server-with-session");
        }
        let w = watch_policy(
            SimConfig {
                api_key: Some("key-555".into()),
                ..SimConfig::default()
            },
            &extra,
            &[("LIVETRIGGER_SIGN_API_KEY", "key-555")],
        )
        .await;
        assert!(w.ok, "{}", w.stderr);
        let sign = &w.rec.sign_requests[0];
        assert_eq!(sign.header("x-api-key"), Some("key-555"));
        assert_eq!(sign.header("cookie"), None);
        assert_eq!(sign.query("session_id").is_some(), trusted);
        let hs = w.rec.handshakes.iter().find(|h| h.accepted).unwrap();
        assert_eq!(hs.cookie("sessionid").is_some(), trusted);
        for r in &w.rec.http_requests {
            let all = format!("{:?}{:?}", r.headers, r.query);
            assert!(
                !all.contains("key-555"),
                "the key went to TikTok: {}",
                r.path
            );
        }
        for secret in ["key-555", "sess-777"] {
            assert!(!w.stdout.contains(secret) && !w.stderr.contains(secret));
        }
    }
}
