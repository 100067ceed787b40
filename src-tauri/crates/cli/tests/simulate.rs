//! `livetrigger-cli simulate`: the first line names the port, and the routes answer there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"))
        .arg("simulate")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    // The pipe's read end is dropped after the first line on purpose: the simulator must
    // keep serving when nobody reads its stdout any more.
    let stdout = child.stdout.take().expect("stdout is piped");
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    (child, line)
}

/// A bare HTTP/1.1 GET; returns (status line, headers + body as text).
fn get(addr: &str, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    (head, raw[split + 4..].to_vec())
}

fn addr_of(first_line: &str) -> String {
    let addr = first_line
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"));
    assert!(addr.starts_with("127.0.0.1:"));
    assert!(!addr.ends_with(":0"), "the real port is printed");
    addr.to_string()
}

#[test]
fn simulate_prints_its_address_and_serves_the_routes() {
    let (_child, line) = spawn(&["--listen", "127.0.0.1:0"]);
    let addr = addr_of(&line);
    let (head, body) = get(&addr, "/@simstreamer/live");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("id=\"SIGI_STATE\""));
    assert!(html.contains("7140000000000000001"));
    let (head, body) = get(
        &addr,
        "/webcast/fetch?client=ttlive-python&room_id=7140000000000000001&user_agent=x&platform=web&client_enter=true",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("x-set-tt-cookie: ttwid="));
    // The protobuf body names our own socket as push_server.
    let ws = format!("ws://{addr}/webcast/im/ws_proxy/ws_reuse_supplement/");
    assert!(body.windows(ws.len()).any(|w| w == ws.as_bytes()));
}

#[test]
fn simulate_takes_fault_flags_and_a_scenario_file() {
    let dir = std::env::temp_dir().join(format!("lt-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("one.json");
    std::fs::write(
        &file,
        r#"{"steps":[{"step":"frame","messages":[{"type":"control","action":1}]},{"step":"end_stream"}]}"#,
    )
    .unwrap();
    let (_child, line) = spawn(&[
        "--scenario",
        file.to_str().unwrap(),
        "--rate-limit-first",
        "1",
        "--retry-after",
        "9",
        "--room-state",
        "offline",
    ]);
    let addr = addr_of(&line);
    let (head, _) = get(&addr, "/webcast/rooms/1/connect?client=ttlive-node");
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 9"));
    let (head, _) = get(&addr, "/webcast/rooms/1/connect?client=ttlive-node");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_, body) = get(
        &addr,
        "/api-live/user/room/?uniqueId=simstreamer&sourceType=54",
    );
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["data"]["liveRoom"]["status"], 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simulate_rejects_a_bad_scenario() {
    let out = Command::new(env!("CARGO_BIN_EXE_livetrigger-cli"))
        .args(["simulate", "--scenario", "/nonexistent/scenario.json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("built-in scenario"));
}
