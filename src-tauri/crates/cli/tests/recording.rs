//! Recording in one file, end to end through the binary: `watch --record FILE` against the
//! simulator, then `decode FILE` (same output as the old folder and as today's frame-file
//! decoding) and `simulate --replay FILE` (same events again).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tiktok_live::record::{Reader, RecordKind};
use webcast_sim::{SimConfig, Simulator};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"))
}

/// `watch` against `base_url` (sign server and web routes), recording to `record` if given;
/// returns the JSON lines that are stream events (not connection states).
async fn watch(base_url: &str, record: Option<&Path>) -> Vec<serde_json::Value> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"));
    cmd.args(["watch", "--user", "simstreamer", "--web-url", base_url])
        .args(["--sign-url", base_url, "--max-attempts", "2"])
        .env_remove("LIVETRIGGER_SIGN_API_KEY")
        .env_remove("LIVETRIGGER_TIKTOK_SESSION_ID")
        .kill_on_drop(true);
    if let Some(path) = record {
        cmd.arg("--record").arg(path);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("watch exits when the stream ends")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| {
            !matches!(
                l["type"].as_str(),
                Some("state" | "connected" | "disconnected")
            )
        })
        .collect()
}

fn decode(args: &[&Path]) -> Output {
    let out = cli().arg("decode").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes the recording's items as an old-format folder (what `watch --record` wrote before).
fn to_old_folder(file: &Path, dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    std::fs::create_dir_all(dir.join("frames")).unwrap();
    let mut reader = Reader::open(file).unwrap();
    let initial = dir.join("initial_fetch.bin");
    let mut frames = Vec::new();
    while let Some(item) = reader.next_record().unwrap() {
        match item.kind {
            RecordKind::SignReply => std::fs::write(&initial, &item.bytes).unwrap(),
            RecordKind::Frame => {
                let p = dir.join("frames").join(format!("{:08}.bin", frames.len()));
                std::fs::write(&p, &item.bytes).unwrap();
                frames.push(p);
            }
        }
    }
    assert!(reader.torn().is_none());
    (initial, frames)
}

fn sim_config() -> SimConfig {
    SimConfig {
        time_scale: 0.0,
        end_grace: Duration::from_millis(200),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_recorded_stream_decodes_like_the_old_folder_and_replays_to_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.ltrec");
    let sim = Simulator::start(sim_config(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let live = watch(&sim.base_url(), Some(&file)).await;
    let want = webcast_sim::script::demo().expected();
    assert_eq!(
        live.iter().filter(|l| l["type"] == "follow").count(),
        want.follows
    );
    sim.shutdown().await;

    // One file, every frame in it, the sign reply once and first.
    let mut reader = Reader::open(&file).unwrap();
    let mut kinds = Vec::new();
    while let Some(item) = reader.next_record().unwrap() {
        assert!(item.at_ms.is_some());
        kinds.push(item.kind);
    }
    assert_eq!(kinds[0], RecordKind::SignReply);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == RecordKind::SignReply)
            .count(),
        1
    );
    assert!(kinds.len() > 10);

    // decode FILE == decode DIR (old folder) == today's `decode --initial` + `decode frames…`,
    // byte for byte.
    let old = dir.path().join("old");
    let (initial, frames) = to_old_folder(&file, &old);
    let from_file = decode(&[&file]).stdout;
    let from_folder = decode(&[&old]).stdout;
    let mut by_frames = cli()
        .args(["decode", "--initial"])
        .arg(&initial)
        .output()
        .unwrap()
        .stdout;
    let frame_refs: Vec<&Path> = frames.iter().map(|p| p.as_path()).collect();
    by_frames.extend(decode(&frame_refs).stdout);
    assert!(!from_file.is_empty());
    assert_eq!(from_file, from_folder);
    assert_eq!(from_file, by_frames);
    let gifts = String::from_utf8(from_file.clone())
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"gift\""))
        .count();
    assert!(gifts > 0);

    // record-convert turns the old folder into a file that decodes the same.
    let converted = dir.path().join("converted.ltrec");
    let out = cli()
        .arg("record-convert")
        .args([&old, &converted])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(decode(&[&converted]).stdout, from_file);

    // simulate --replay FILE (the real binary) gives a client the same events.
    for (source, speed) in [(&file, "1"), (&old, "1"), (&file, "0")] {
        let mut child = cli()
            .args(["simulate", "--replay"])
            .arg(source)
            .args(["--replay-speed", speed])
            .stdout(Stdio::piped())
            .kill_on_drop_guard();
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        let replayed = watch(&url, None).await;
        assert_eq!(
            replayed,
            live,
            "replay of {} at speed {speed}",
            source.display()
        );
    }
}

#[test]
fn a_torn_tail_is_a_warning_and_everything_before_it_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.ltrec");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/third_party/frames");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut rec = tiktok_live::record::Recorder::open(&file).unwrap();
    for (i, p) in names.iter().enumerate() {
        rec.push(RecordKind::Frame, i as u64, &std::fs::read(p).unwrap());
    }
    assert!(rec.finish());
    let whole = decode(&[&file]).stdout;
    let len = std::fs::metadata(&file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    let out = decode(&[&file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("incomplete"),
        "{stderr}"
    );
    let names_refs: Vec<&Path> = names[..names.len() - 1]
        .iter()
        .map(|p| p.as_path())
        .collect();
    assert_eq!(out.stdout, decode(&names_refs).stdout);
    let all: Vec<&Path> = names.iter().map(|p| p.as_path()).collect();
    assert_eq!(whole, decode(&all).stdout);
}

#[test]
fn a_file_that_is_not_a_recording_is_a_clear_error_for_record_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes").unwrap();
    // `watch --record` refuses to write into it before connecting anywhere.
    let out = cli()
        .args(["watch", "--room-id", "1", "--web-url", "http://127.0.0.1:9"])
        .arg("--record")
        .arg(&notes)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a LiveTrigger recording"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
    // `simulate --replay` says why it cannot start.
    let out = cli()
        .args(["simulate", "--replay"])
        .arg(&notes)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a LiveTrigger recording"), "{stderr}");
}

/// Kills the child when the test ends, pass or fail.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

trait SpawnKilled {
    fn kill_on_drop_guard(&mut self) -> Killed;
}

impl SpawnKilled for Command {
    fn kill_on_drop_guard(&mut self) -> Killed {
        Killed(self.spawn().expect("the binary starts"))
    }
}
