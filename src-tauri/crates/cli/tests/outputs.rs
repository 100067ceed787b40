//! `livetrigger-cli rcon | render | play` as a user runs them: the real binary, a real RCON
//! server on 127.0.0.1 started by the test, real sound files.

use std::path::{Path, PathBuf};
use std::process::Output;

use livetrigger_engine::outputs::rcon::test_server::McRconServer;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_livetrigger-cli");
const PW: &str = "hunter2";

async fn cli(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("LIVETRIGGER_RCON_PASSWORD");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().await.expect("run livetrigger-cli")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn rcon_sends_each_command_in_order_and_prints_replies() {
    let server = McRconServer::start(PW).await.unwrap();
    let addr = server.addr().to_string();
    let out = cli(
        &["rcon", "--addr", &addr, "list", "echo first", "echo second"],
        &[("LIVETRIGGER_RCON_PASSWORD", PW)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "There are 0 of a max of 20 players online: \nfirst\nsecond\n"
    );
    assert_eq!(
        server.state().executed(),
        ["list", "echo first", "echo second"]
    );
}

#[tokio::test]
async fn rcon_wrong_password_is_a_clear_failure() {
    let server = McRconServer::start(PW).await.unwrap();
    let addr = server.addr().to_string();
    let out = cli(
        &["rcon", "--addr", &addr, "say hi", "say again"],
        &[("LIVETRIGGER_RCON_PASSWORD", "wrong")],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("password was refused"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.state().auth_attempts(), 1);
    assert!(server.state().executed().is_empty());
}

#[tokio::test]
async fn rcon_unreachable_server_is_a_clear_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = cli(
        &["rcon", "--addr", &addr, "--timeout", "1", "list"],
        &[("LIVETRIGGER_RCON_PASSWORD", PW)],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("cannot reach the RCON server"), "{err}");
    assert!(err.contains("not sent"), "{err}");
}

#[tokio::test]
async fn rcon_over_long_command_is_refused_before_anything_is_sent() {
    let server = McRconServer::start(PW).await.unwrap();
    let addr = server.addr().to_string();
    let long = format!("say {}", "x".repeat(1443));
    let out = cli(
        &["rcon", "--addr", &addr, "say ok", &long],
        &[("LIVETRIGGER_RCON_PASSWORD", PW)],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("1447 bytes"), "{err}");
    assert!(err.contains("command 2 not sent"), "{err}");
    assert_eq!(server.state().connections(), 0);
}

#[tokio::test]
async fn rcon_without_password_says_where_to_put_it() {
    let out = cli(&["rcon", "list"], &[]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("LIVETRIGGER_RCON_PASSWORD"));
}

#[tokio::test]
async fn render_prints_exactly_what_would_be_sent() {
    let out = cli(
        &[
            "render",
            r#"tellraw @a {"text":"{user} sent {count}x {gift}"}"#,
            "--user",
            "\"},{\"selector\":\"@a\"}\n§4",
            "--gift",
            "Rose",
            "--count",
            "5",
        ],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let json = line
        .trim_end_matches('\n')
        .strip_prefix("tellraw @a ")
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1);
    assert_eq!(v["text"], "\"},{\"selector\":\"\u{FF20}a\"} 4 sent 5x Rose");
}

#[tokio::test]
async fn render_reports_template_and_event_errors() {
    let out = cli(&["render", "say {usr}"], &[]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown placeholder {usr}"));
    let out = cli(&["render", "give {username} diamond {count}"], &[]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no {count} value"),
        "{}",
        text(&out.stderr)
    );
}

fn write_wav(path: &Path) {
    let samples: Vec<i16> = (0..2205).map(|i| ((i % 50) * 200) as i16).collect();
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    for v in [1u16, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [22_050u32, 44_100] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [2u16, 16] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("livetrigger-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn null_alsa_conf() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../.ci/asound-null.conf")
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn play_plays_a_wav_on_the_null_device() {
    let dir = scratch("play");
    let wav = dir.join("ding.wav");
    write_wav(&wav);
    let conf = null_alsa_conf();
    let out = cli(
        &["play", wav.to_str().unwrap(), "--volume", "0.5"],
        &[("ALSA_CONFIG_PATH", &conf)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("played"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn play_names_a_missing_file() {
    let conf = null_alsa_conf();
    let out = cli(
        &["play", "/nonexistent/boom.mp3"],
        &[("ALSA_CONFIG_PATH", &conf)],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not found: /nonexistent/boom.mp3"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn play_without_an_audio_device_says_so() {
    let dir = scratch("nodev");
    let wav = dir.join("ding.wav");
    write_wav(&wav);
    let conf = dir.join("asound.conf");
    std::fs::write(
        &conf,
        "</usr/share/alsa/alsa.conf>\npcm.!default { type hw card 77 }\n",
    )
    .unwrap();
    let out = cli(
        &["play", wav.to_str().unwrap()],
        &[("ALSA_CONFIG_PATH", conf.to_str().unwrap())],
    )
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no audio device"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}
