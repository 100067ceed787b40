//! `livetrigger-cli decode` against frames made by a third-party encoder (PyPI
//! TikTokLiveProto, see tests/conformance/decode/make_fixtures.py): every value must match.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/third_party")
}

fn frame_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("frames"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

#[test]
fn third_party_frames_decode_to_the_expected_values() {
    let out = cli().arg("decode").args(frame_files()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = json_lines(&String::from_utf8(out.stdout).unwrap());
    let want = json_lines(&std::fs::read_to_string(fixtures().join("expected.jsonl")).unwrap());
    assert_eq!(got.len(), want.len(), "one line per message");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // Every key the reference expects must match; extra keys (e.g. an error text) are fine.
        for (k, v) in w.as_object().unwrap() {
            assert_eq!(&g[k], v, "line {i}, key {k}: got {g}");
        }
    }
}

#[test]
fn stdin_and_initial_fetch_results() {
    use prost::Message as _;
    // A frame on stdin.
    let frame = std::fs::read(&frame_files()[0]).unwrap();
    let mut child = cli()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&frame).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 1);

    // A sign-server reply body (a bare fetch result) with --initial.
    let result = tiktok_live::proto::FetchResult {
        messages: vec![tiktok_live::proto::BaseMessage {
            method: "WebcastChatMessage".into(),
            payload: tiktok_live::proto::ChatMessage {
                content: "history".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            msg_id: 77,
            is_history: true,
            ..Default::default()
        }],
        cursor: "c".into(),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("initial_fetch.bin");
    std::fs::write(&path, result.encode_to_vec()).unwrap();
    let out = cli()
        .args(["decode", "--initial"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["content"], "history");
    assert_eq!(lines[0]["msg_id"], "77");
    assert_eq!(lines[0]["is_history"], true);
}

#[test]
fn unreadable_input_is_reported_and_the_rest_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0xff, 0xff, 0xff, 0x01]).unwrap();
    let missing = dir.path().join("missing.bin");
    let good = frame_files()[0].clone();
    let out = cli()
        .arg("decode")
        .args([&junk, &missing, &good])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a bad file makes the exit code non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("junk.bin"), "{stderr}");
    assert!(stderr.contains("missing.bin"), "{stderr}");
    assert_eq!(json_lines(&String::from_utf8(out.stdout).unwrap()).len(), 1);
}
